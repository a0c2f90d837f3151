// The super-resolution pipeline's files (public/models/emoji-sr/, written by training/sr/export_sr.py):
// card.json (components, checksums, conditioning, scheduler) and unet/config.json (diffusers'
// UNet2DModel keys). parseSRCard / parseSRUNetConfig turn untrusted JSON into typed values or say
// which field is wrong.
import { ModelLoadError } from '../model/errors';

export const SR_CARD_FORMAT = 'diffusion-playground/pipeline-card@1';

/** Mirrors sr_unet.DEFAULT_CONFIG in training/sr/sr_unet.py (the keys the port reads). */
export interface SRUNetConfig {
  sample_size: number;
  low_res_size: number;
  in_channels: number;
  out_channels: number;
  block_out_channels: number[];
  layers_per_block: number;
  norm_num_groups: number;
  norm_eps: number;
  flip_sin_to_cos: boolean;
  freq_shift: number;
  time_embedding_dim: number;
  add_attention: boolean;
  class_embed_type: string;
  low_res_upsample: string;
  max_noise_level: number;
}

export interface SRWeightsRecord {
  file: string;
  byte_length: number;
  sha256: string;
}

export interface SRCard {
  format: string;
  id: string;
  name: string;
  unet: { config: string; weights: SRWeightsRecord; parameterCount: number; mmacPerSample: number };
  /** diffusers DDPMScheduler keys (prediction_type v_prediction). */
  scheduler: Record<string, unknown> & { num_train_timesteps: number; beta_schedule: string };
  predictionType: 'epsilon' | 'v_prediction';
  lowResShape: [number, number, number];
  imageShape: [number, number, number];
  maxNoiseLevel: number;
  defaultNoiseLevel: number;
  quality: Record<string, unknown>;
  training: Record<string, unknown>;
  speed?: Record<string, unknown>;
  attribution: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field<T>(
  obj: Record<string, unknown>,
  key: string,
  file: string,
  check: (v: unknown) => v is T,
  what: string,
): T {
  const v = obj[key];
  if (!check(v)) throw new ModelLoadError(file, `${key} must be ${what}, got ${JSON.stringify(v)}`);
  return v;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const isString = (v: unknown): v is string => typeof v === 'string';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isRec = (v: unknown): v is Record<string, unknown> => isRecord(v);
const isShape = (v: unknown): v is [number, number, number] =>
  Array.isArray(v) && v.length === 3 && v.every(isPositiveInt);

export function parseSRCard(json: unknown, file = 'card.json'): SRCard {
  if (!isRecord(json)) throw new ModelLoadError(file, 'is not a JSON object');
  const format = field(json, 'format', file, isString, 'a string');
  if (format !== SR_CARD_FORMAT) {
    throw new ModelLoadError(
      file,
      `format is ${JSON.stringify(format)}, expected ${SR_CARD_FORMAT}`,
    );
  }
  const components = field(json, 'components', file, isRec, 'an object');
  const unet = isRecord(components.unet) ? components.unet : null;
  if (!unet) throw new ModelLoadError(file, 'components.unet is missing');
  const weights = field(unet, 'weights', file, isRec, 'an object');
  const conditioning = field(json, 'conditioning', file, isRec, 'an object');
  if (conditioning.kind !== 'low_res_image') {
    throw new ModelLoadError(
      file,
      `conditioning.kind is ${JSON.stringify(conditioning.kind)}, expected "low_res_image"`,
    );
  }
  const sampleSpace = field(json, 'sample_space', file, isRec, 'an object');
  if (sampleSpace.kind !== 'pixels') {
    throw new ModelLoadError(
      file,
      `sample_space.kind is ${JSON.stringify(sampleSpace.kind)}, expected "pixels"`,
    );
  }
  const scheduler = field(json, 'scheduler', file, isRec, 'an object');
  field(scheduler, 'num_train_timesteps', file, isPositiveInt, 'a positive integer');
  field(scheduler, 'beta_schedule', file, isString, 'a string');
  const prediction = field(json, 'prediction_type', file, isString, 'a string');
  if (prediction !== 'epsilon' && prediction !== 'v_prediction') {
    throw new ModelLoadError(
      file,
      `prediction_type ${prediction} is not supported (epsilon or v_prediction)`,
    );
  }
  const maxNoiseLevel = field(
    conditioning,
    'max_noise_level',
    file,
    Number.isInteger as (v: unknown) => v is number,
    'an integer',
  );
  const defaultNoiseLevel = field(
    conditioning,
    'default_noise_level',
    file,
    Number.isInteger as (v: unknown) => v is number,
    'an integer',
  );
  return {
    format,
    id: field(json, 'id', file, isString, 'a string'),
    name: field(json, 'name', file, isString, 'a string'),
    unet: {
      config: field(unet, 'config', file, isString, 'a path'),
      weights: {
        file: field(weights, 'file', file, isString, 'a path'),
        byte_length: field(weights, 'byte_length', file, isPositiveInt, 'a positive integer'),
        sha256: field(
          weights,
          'sha256',
          file,
          (v): v is string => isString(v) && /^[0-9a-f]{64}$/.test(v),
          'a sha256 hex string',
        ),
      },
      parameterCount: field(unet, 'parameter_count', file, isPositiveInt, 'a positive integer'),
      mmacPerSample: field(unet, 'mmac_per_sample', file, isNumber, 'a number'),
    },
    scheduler: scheduler as SRCard['scheduler'],
    predictionType: prediction,
    lowResShape: field(conditioning, 'low_res_shape', file, isShape, '[h, w, c]'),
    imageShape: field(sampleSpace, 'shape', file, isShape, '[h, w, c]'),
    maxNoiseLevel,
    defaultNoiseLevel,
    quality: isRecord(json.quality) ? json.quality : {},
    training: isRecord(json.training) ? json.training : {},
    speed: isRecord(json.speed) ? json.speed : undefined,
    attribution: isString(json.attribution_text) ? json.attribution_text : '',
  };
}

export function parseSRUNetConfig(json: unknown, file = 'unet/config.json'): SRUNetConfig {
  if (!isRecord(json)) throw new ModelLoadError(file, 'is not a JSON object');
  const ints = [
    'sample_size',
    'low_res_size',
    'in_channels',
    'out_channels',
    'layers_per_block',
    'norm_num_groups',
    'time_embedding_dim',
  ] as const;
  const out: Record<string, unknown> = {};
  for (const key of ints) out[key] = field(json, key, file, isPositiveInt, 'a positive integer');
  const chs = json.block_out_channels;
  if (!Array.isArray(chs) || chs.length < 1 || !chs.every(isPositiveInt)) {
    throw new ModelLoadError(file, 'block_out_channels must be a list of positive integers');
  }
  out.block_out_channels = chs;
  out.norm_eps = field(json, 'norm_eps', file, isNumber, 'a number');
  out.flip_sin_to_cos = field(json, 'flip_sin_to_cos', file, isBool, 'true or false');
  out.freq_shift = field(json, 'freq_shift', file, isNumber, 'a number');
  out.add_attention = field(json, 'add_attention', file, isBool, 'true or false');
  out.class_embed_type = field(json, 'class_embed_type', file, isString, 'a string');
  out.low_res_upsample = field(json, 'low_res_upsample', file, isString, 'a string');
  out.max_noise_level = field(
    json,
    'max_noise_level',
    file,
    Number.isInteger as (v: unknown) => v is number,
    'an integer',
  );
  const cfg = out as unknown as SRUNetConfig;
  const unsupported = (what: string) =>
    new ModelLoadError(file, `${what} is not supported by this port`);
  if (cfg.add_attention) throw unsupported('add_attention: true');
  if (cfg.class_embed_type !== 'timestep')
    throw unsupported(`class_embed_type ${cfg.class_embed_type}`);
  if (cfg.low_res_upsample !== 'nearest')
    throw unsupported(`low_res_upsample ${cfg.low_res_upsample}`);
  if (!cfg.flip_sin_to_cos || cfg.freq_shift !== 0)
    throw unsupported('timestep features other than [cos, sin] with freq_shift 0');
  if (cfg.in_channels !== 2 * cfg.out_channels) {
    throw new ModelLoadError(
      file,
      `in_channels ${cfg.in_channels} must be twice out_channels (x_t and the low-res image)`,
    );
  }
  for (const ch of cfg.block_out_channels) {
    if (ch % cfg.norm_num_groups)
      throw new ModelLoadError(
        file,
        `${ch} channels do not split into ${cfg.norm_num_groups} groups`,
      );
  }
  return cfg;
}
