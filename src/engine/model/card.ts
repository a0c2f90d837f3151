// The model card (public/models/<id>/card.json) written by training/export.py: architecture config,
// tensor manifest of the weights file, data set, labels and scheduler config. parseModelCard turns
// untrusted JSON into a typed card, or says exactly which field is wrong.
import { ModelLoadError } from './errors';

export const CARD_FORMAT = 'diffusion-playground/unet-card@1';

/** Mirrors unet.DEFAULT_CONFIG in training/unet.py (same keys, snake_case as saved). */
export interface UNetConfig {
  model_type: string;
  image_size: number;
  in_channels: number;
  out_channels: number;
  base_channels: number;
  channel_mult: number[];
  num_res_blocks: number;
  attention_resolutions: number[];
  attention_heads: number;
  mid_attention: boolean;
  dropout: number;
  num_classes: number;
  null_class_id: number;
  groupnorm_groups: number;
  groupnorm_eps: number;
  timestep_features: number;
  timestep_max_period: number;
  embed_dim: number;
  downsample: string;
  upsample: string;
}

export type WeightDtype = 'float16' | 'float32';

export interface TensorEntry {
  name: string;
  shape: number[];
  dtype: WeightDtype;
  /** Byte offset into the weights file. */
  offset: number;
  /** Byte length in the weights file. */
  length: number;
}

/** The weights file a card names: checked against the bytes before any tensor is made. */
export interface WeightsManifest {
  file: string;
  dtype: string;
  byte_order: string;
  byte_length: number;
  sha256: string;
}

export interface ModelCard {
  format: string;
  id: string;
  name: string;
  architecture: UNetConfig;
  parameter_count: number;
  gflop_per_sample?: number;
  weights: WeightsManifest;
  tensors: TensorEntry[];
  dataset: { id: string; name: string; licence: string; attribution: string };
  class_labels: string[];
  null_class_id: number;
  /** diffusers scheduler config (DDPMScheduler keys). */
  scheduler: Record<string, unknown> & {
    num_train_timesteps: number;
    beta_schedule: string;
    prediction_type: string;
  };
  prediction_type: 'epsilon' | 'v_prediction' | 'sample';
  training?: Record<string, unknown>;
  quality: unknown;
}

const NUMBER_KEYS = [
  'image_size',
  'in_channels',
  'out_channels',
  'base_channels',
  'num_res_blocks',
  'attention_heads',
  'num_classes',
  'null_class_id',
  'groupnorm_groups',
  'groupnorm_eps',
  'timestep_features',
  'timestep_max_period',
  'embed_dim',
] as const;

const SUPPORTED_RESAMPLING = { downsample: 'conv3x3-stride2-pad1', upsample: 'nearest2x-conv3x3' };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isNumberArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isFinite(v));
}

/**
 * Checks the "weights" object and the "tensors" list, which every card format of this repository
 * (U-Net, noisy classifier) shares; `fail` throws with the card's file name.
 */
export function checkWeightManifest(
  json: Record<string, unknown>,
  fail: (problem: string) => never,
): void {
  const weights = json.weights;
  if (!isRecord(weights)) return fail('missing "weights" object');
  if (typeof weights.file !== 'string' || weights.file === '') fail('weights.file must be a name');
  if (typeof weights.byte_length !== 'number') fail('weights.byte_length must be a number');
  if (typeof weights.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(weights.sha256)) {
    fail('weights.sha256 must be 64 lowercase hex digits');
  }
  if (weights.byte_order !== 'little') {
    fail(`weights.byte_order ${JSON.stringify(weights.byte_order)} is not "little"`);
  }

  if (!Array.isArray(json.tensors)) return fail('missing "tensors" list');
  json.tensors.forEach((entry: unknown, i: number) => {
    if (!isRecord(entry) || typeof entry.name !== 'string')
      return fail(`tensors[${i}] has no name`);
    const where = `tensor ${entry.name}`;
    if (!isNumberArray(entry.shape)) fail(`${where}: shape must be a list of numbers`);
    if (typeof entry.offset !== 'number' || typeof entry.length !== 'number') {
      fail(`${where}: offset and length must be numbers`);
    }
    if (entry.dtype !== 'float16' && entry.dtype !== 'float32') {
      fail(`${where}: unknown dtype ${JSON.stringify(entry.dtype)} (expected float16 or float32)`);
    }
  });
}

/** Checks the card's shape and the architecture's consistency; returns it typed. */
export function parseModelCard(json: unknown, file = 'card.json'): ModelCard {
  const fail = (problem: string): never => {
    throw new ModelLoadError(file, problem);
  };
  if (!isRecord(json)) return fail('not a JSON object');
  if (json.format !== CARD_FORMAT) {
    fail(`unknown card format ${JSON.stringify(json.format)} (expected "${CARD_FORMAT}")`);
  }
  const arch = json.architecture;
  if (!isRecord(arch)) return fail('missing "architecture" object');
  for (const key of NUMBER_KEYS) {
    if (typeof arch[key] !== 'number' || !Number.isFinite(arch[key])) {
      fail(`architecture.${key} must be a number, got ${JSON.stringify(arch[key])}`);
    }
  }
  if (!isNumberArray(arch.channel_mult) || arch.channel_mult.length === 0) {
    fail('architecture.channel_mult must be a non-empty list of numbers');
  }
  if (!isNumberArray(arch.attention_resolutions)) {
    fail('architecture.attention_resolutions must be a list of numbers');
  }
  for (const [key, supported] of Object.entries(SUPPORTED_RESAMPLING)) {
    if (arch[key] !== supported) {
      fail(
        `architecture.${key} is ${JSON.stringify(arch[key])}; this port supports "${supported}"`,
      );
    }
  }
  const config = arch as unknown as UNetConfig;
  const widths = [
    config.base_channels,
    ...config.channel_mult.map((m) => m * config.base_channels),
  ];
  if (widths.some((c) => c % config.groupnorm_groups !== 0)) {
    fail(`channel counts ${widths.join(', ')} are not all divisible by groupnorm_groups`);
  }
  if (config.timestep_features % 2 !== 0) fail('architecture.timestep_features must be even');
  if (config.null_class_id !== config.num_classes) {
    fail('architecture.null_class_id must equal num_classes (the extra class_embed row)');
  }

  checkWeightManifest(json, fail);

  if (!Array.isArray(json.class_labels) || json.class_labels.length !== config.num_classes) {
    fail(`class_labels must list ${config.num_classes} labels`);
  }
  const prediction = json.prediction_type;
  if (prediction !== 'epsilon' && prediction !== 'v_prediction' && prediction !== 'sample') {
    fail(`unknown prediction_type ${JSON.stringify(prediction)}`);
  }
  if (!isRecord(json.scheduler) || typeof json.scheduler.num_train_timesteps !== 'number') {
    fail('scheduler.num_train_timesteps must be a number');
  }
  return json as unknown as ModelCard;
}
