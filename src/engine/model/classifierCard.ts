// The noisy-image classifier's card (public/models/<id>-classifier/card.json) written by
// training/train_noisy_classifier.py: architecture config, io, tensor manifest of the float16
// weights file, labels and the diffusion schedule its x_t inputs come from. parseClassifierCard
// turns untrusted JSON into a typed card, or says which file and which field is wrong.
import {
  checkWeightManifest,
  isNumberArray,
  isRecord,
  type TensorEntry,
  type WeightsManifest,
} from './card';
import { ModelLoadError } from './errors';

export const CLASSIFIER_CARD_FORMAT = 'diffusion-playground/noisy-classifier-card@1';

/** Mirrors DEFAULT_CONFIG in training/train_noisy_classifier.py (same keys, snake_case as saved). */
export interface NoisyClassifierConfig {
  model_type: 'noisy-classifier-cnn';
  image_size: number;
  in_channels: number;
  /** [conv_in width, width after down1 (kept through down2 and both blocks)]. */
  channels: [number, number];
  num_classes: number;
  groupnorm_groups: number;
  groupnorm_eps: number;
  timestep_features: number;
  timestep_max_period: number;
  embed_dim: number;
  downsample: string;
}

export interface NoisyClassifierCard {
  format: typeof CLASSIFIER_CARD_FORMAT;
  id: string;
  name: string;
  /** Id of the diffusion model whose x_t this classifier reads (same schedule, same image size). */
  for_model: string;
  architecture: NoisyClassifierConfig;
  /** Human-readable forward pass, for reference; the port follows the PyTorch module. */
  layers: string;
  parameter_count: number;
  io: {
    layout: 'NHWC';
    input_shape: [null, number, number, number];
    pixel_range: [number, number];
    inputs?: string;
    output?: string;
  };
  weights: WeightsManifest;
  tensors: TensorEntry[];
  dataset?: { id: string; name: string; licence: string; attribution: string };
  class_labels: string[];
  /** diffusers scheduler config (DDPMScheduler keys) of the noise the classifier was trained on. */
  scheduler: Record<string, unknown> & { num_train_timesteps: number };
  /** Test accuracy of the shipped weights by timestep ("0", "250", ...). */
  accuracy?: { by_timestep: Record<string, number> } & Record<string, unknown>;
  training?: Record<string, unknown>;
  licence?: string;
}

const NUMBER_KEYS = [
  'image_size',
  'in_channels',
  'num_classes',
  'groupnorm_groups',
  'groupnorm_eps',
  'timestep_features',
  'timestep_max_period',
  'embed_dim',
] as const;

const SUPPORTED_DOWNSAMPLE = 'conv3x3-stride2-pad1';

/** Checks the card's shape and the architecture's consistency; returns it typed. */
export function parseClassifierCard(json: unknown, file = 'card.json'): NoisyClassifierCard {
  const fail = (problem: string): never => {
    throw new ModelLoadError(file, problem);
  };
  if (!isRecord(json)) return fail('not a JSON object');
  if (json.format !== CLASSIFIER_CARD_FORMAT) {
    fail(
      `unknown card format ${JSON.stringify(json.format)} (expected "${CLASSIFIER_CARD_FORMAT}")`,
    );
  }
  for (const key of ['id', 'name', 'for_model'] as const) {
    if (typeof json[key] !== 'string' || json[key] === '')
      fail(`${key} must be a non-empty string`);
  }
  const arch = json.architecture;
  if (!isRecord(arch)) return fail('missing "architecture" object');
  if (arch.model_type !== 'noisy-classifier-cnn') {
    fail(
      `architecture.model_type is ${JSON.stringify(arch.model_type)}; ` +
        'this port supports "noisy-classifier-cnn"',
    );
  }
  for (const key of NUMBER_KEYS) {
    if (typeof arch[key] !== 'number' || !Number.isFinite(arch[key]) || arch[key] <= 0) {
      fail(`architecture.${key} must be a positive number, got ${JSON.stringify(arch[key])}`);
    }
  }
  if (!isNumberArray(arch.channels) || arch.channels.length !== 2) {
    fail('architecture.channels must be a list of two numbers [conv_in width, block width]');
  }
  if (arch.downsample !== SUPPORTED_DOWNSAMPLE) {
    fail(
      `architecture.downsample is ${JSON.stringify(arch.downsample)}; ` +
        `this port supports "${SUPPORTED_DOWNSAMPLE}"`,
    );
  }
  const config = arch as unknown as NoisyClassifierConfig;
  // Only the 64-wide blocks and out_norm are normalised; conv_in's output goes straight to SiLU.
  if (config.channels[1] % config.groupnorm_groups !== 0) {
    fail(
      `architecture.channels[1] = ${config.channels[1]} is not divisible by ` +
        `groupnorm_groups = ${config.groupnorm_groups}`,
    );
  }
  if (config.timestep_features % 2 !== 0) fail('architecture.timestep_features must be even');
  if (typeof json.parameter_count !== 'number') fail('parameter_count must be a number');

  const io = json.io;
  if (!isRecord(io)) return fail('missing "io" object');
  if (io.layout !== 'NHWC') fail(`io.layout is ${JSON.stringify(io.layout)}; expected "NHWC"`);
  const inputShape = io.input_shape;
  const expectedInput = [null, config.image_size, config.image_size, config.in_channels];
  if (
    !Array.isArray(inputShape) ||
    inputShape.length !== 4 ||
    inputShape.some((v, i) => v !== expectedInput[i])
  ) {
    fail(
      `io.input_shape is ${JSON.stringify(inputShape)}, but the architecture reads ` +
        JSON.stringify(expectedInput),
    );
  }

  checkWeightManifest(json, fail);

  if (
    !Array.isArray(json.class_labels) ||
    json.class_labels.length !== config.num_classes ||
    json.class_labels.some((label) => typeof label !== 'string')
  ) {
    fail(`class_labels must list ${config.num_classes} labels`);
  }
  if (!isRecord(json.scheduler) || typeof json.scheduler.num_train_timesteps !== 'number') {
    fail('scheduler.num_train_timesteps must be a number');
  }
  return json as unknown as NoisyClassifierCard;
}
