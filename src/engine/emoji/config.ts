// The components' config.json files (diffusers keys, our own class names), checked field by field:
// a wrong or missing field fails here, naming the file, before any weights are read.
import { ModelLoadError } from '../model/errors';

/** unet/config.json (training/emoji/latent_unet.py DEFAULT_CONFIG). */
export interface LatentUNetConfig {
  _class_name: string;
  sample_size: number;
  in_channels: number;
  out_channels: number;
  block_out_channels: number[];
  layers_per_block: number;
  cross_attention_dim: number;
  attention_head_dim: number;
  norm_num_groups: number;
  norm_eps: number;
  ff_mult: number;
  time_embedding_dim: number;
}

/** text_encoder/config.json (training/emoji/text_encoder.py DEFAULT_CONFIG). */
export interface TextEncoderConfig {
  _class_name: string;
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  max_position_embeddings: number;
  layer_norm_eps: number;
}

/** vae/config.json (training/emoji/vae.py DEFAULT_CONFIG + the latent normalisation). */
export interface VaeConfig {
  _class_name: string;
  in_channels: number;
  out_channels: number;
  latent_channels: number;
  block_out_channels: number[];
  layers_per_block: number;
  norm_num_groups: number;
  sample_size: number;
  mid_block_add_attention: boolean;
  scaling_factor: number;
  latents_mean: number[];
  latents_std: number[];
}

/** tokenizer/tokenizer_config.json. */
export interface TokenizerConfig {
  _class_name: string;
  model_max_length: number;
  pad_token_id: number;
  bos_token_id: number;
  eos_token_id: number;
}

export const UNET_CLASS = 'EmojiUNet2DConditionModel';
export const TEXT_ENCODER_CLASS = 'EmojiTextEncoder';
export const TOKENIZER_CLASS = 'EmojiWordTokenizer';
export const VAE_CLASS = 'EmojiAutoencoderKL';

type Fail = (problem: string) => never;

function failIn(file: string): Fail {
  return (problem) => {
    throw new ModelLoadError(file, problem);
  };
}

function record(json: unknown, fail: Fail): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('not a JSON object');
  return json as Record<string, unknown>;
}

function positiveInts(obj: Record<string, unknown>, keys: readonly string[], fail: Fail): void {
  for (const key of keys) {
    const v = obj[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      fail(`${key} must be a positive whole number, got ${JSON.stringify(v)}`);
    }
  }
}

function positiveNumbers(obj: Record<string, unknown>, keys: readonly string[], fail: Fail): void {
  for (const key of keys) {
    const v = obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      fail(`${key} must be a positive number, got ${JSON.stringify(v)}`);
    }
  }
}

function intList(obj: Record<string, unknown>, key: string, fail: Fail): number[] {
  const v = obj[key];
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => Number.isInteger(x) && x > 0)) {
    return fail(`${key} must be a non-empty list of positive whole numbers`);
  }
  return v as number[];
}

function expectClass(obj: Record<string, unknown>, name: string, fail: Fail): void {
  if (obj._class_name !== name) {
    fail(`_class_name is ${JSON.stringify(obj._class_name)}; this port runs "${name}"`);
  }
}

/** Features this port implements; a config asking for another variant is refused by name. */
function expectValue(obj: Record<string, unknown>, key: string, want: unknown, fail: Fail): void {
  if (key in obj && obj[key] !== want) {
    fail(`${key} is ${JSON.stringify(obj[key])}; this port supports ${JSON.stringify(want)}`);
  }
}

export function parseLatentUNetConfig(json: unknown, file: string): LatentUNetConfig {
  const fail = failIn(file);
  const c = record(json, fail);
  expectClass(c, UNET_CLASS, fail);
  positiveInts(
    c,
    [
      'sample_size',
      'in_channels',
      'out_channels',
      'layers_per_block',
      'cross_attention_dim',
      'attention_head_dim',
      'norm_num_groups',
      'ff_mult',
      'time_embedding_dim',
    ],
    fail,
  );
  positiveNumbers(c, ['norm_eps'], fail);
  const widths = intList(c, 'block_out_channels', fail);
  expectValue(c, 'flip_sin_to_cos', true, fail);
  expectValue(c, 'freq_shift', 0, fail);
  expectValue(c, 'act_fn', 'silu', fail);
  expectValue(c, 'mid_block_type', 'UNetMidBlock2DCrossAttn', fail);
  const n = widths.length;
  const downs = c.down_block_types;
  const ups = c.up_block_types;
  if (
    !Array.isArray(downs) ||
    downs.length !== n ||
    !downs.every((t) => t === 'CrossAttnDownBlock2D')
  ) {
    fail(`down_block_types must be ${n} x "CrossAttnDownBlock2D"`);
  }
  if (!Array.isArray(ups) || ups.length !== n || !ups.every((t) => t === 'CrossAttnUpBlock2D')) {
    fail(`up_block_types must be ${n} x "CrossAttnUpBlock2D"`);
  }
  const cfg = c as unknown as LatentUNetConfig;
  for (const w of widths) {
    if (w % cfg.norm_num_groups !== 0) fail(`block width ${w} is not divisible by norm_num_groups`);
    if (w % cfg.attention_head_dim !== 0) {
      fail(`block width ${w} is not divisible by attention_head_dim ${cfg.attention_head_dim}`);
    }
  }
  if (widths[0] % 2 !== 0) fail('block_out_channels[0] (the timestep features) must be even');
  if (cfg.sample_size % 2 ** (n - 1) !== 0) {
    fail(`sample_size ${cfg.sample_size} does not halve ${n - 1} time(s)`);
  }
  return cfg;
}

export function parseTextEncoderConfig(json: unknown, file: string): TextEncoderConfig {
  const fail = failIn(file);
  const c = record(json, fail);
  expectClass(c, TEXT_ENCODER_CLASS, fail);
  positiveInts(
    c,
    [
      'vocab_size',
      'hidden_size',
      'intermediate_size',
      'num_hidden_layers',
      'num_attention_heads',
      'max_position_embeddings',
    ],
    fail,
  );
  positiveNumbers(c, ['layer_norm_eps'], fail);
  expectValue(c, 'hidden_act', 'quick_gelu', fail);
  const cfg = c as unknown as TextEncoderConfig;
  if (cfg.hidden_size % cfg.num_attention_heads !== 0) {
    fail(`hidden_size ${cfg.hidden_size} is not divisible by num_attention_heads`);
  }
  return cfg;
}

export function parseVaeConfig(json: unknown, file: string): VaeConfig {
  const fail = failIn(file);
  const c = record(json, fail);
  expectClass(c, VAE_CLASS, fail);
  positiveInts(
    c,
    ['in_channels', 'out_channels', 'latent_channels', 'layers_per_block', 'norm_num_groups'],
    fail,
  );
  positiveInts(c, ['sample_size'], fail);
  positiveNumbers(c, ['scaling_factor'], fail);
  const widths = intList(c, 'block_out_channels', fail);
  if (typeof c.mid_block_add_attention !== 'boolean') {
    fail('mid_block_add_attention must be true or false');
  }
  if (c.shift_factor !== undefined && c.shift_factor !== null) {
    fail('shift_factor is set; this pipeline normalises with latents_mean / latents_std instead');
  }
  const cfg = c as unknown as VaeConfig;
  for (const key of ['latents_mean', 'latents_std'] as const) {
    const v = c[key];
    if (
      !Array.isArray(v) ||
      v.length !== cfg.latent_channels ||
      !v.every((x) => typeof x === 'number' && Number.isFinite(x))
    ) {
      fail(`${key} must list ${cfg.latent_channels} numbers (one per latent channel)`);
    }
  }
  if (!cfg.latents_std.every((s) => s > 0)) fail('latents_std must be positive');
  for (const w of widths) {
    if (w % cfg.norm_num_groups !== 0) fail(`block width ${w} is not divisible by norm_num_groups`);
  }
  if (cfg.sample_size % 2 ** (widths.length - 1) !== 0) {
    fail(`sample_size ${cfg.sample_size} does not halve ${widths.length - 1} time(s)`);
  }
  return cfg;
}

export function parseTokenizerConfig(json: unknown, file: string): TokenizerConfig {
  const fail = failIn(file);
  const c = record(json, fail);
  expectClass(c, TOKENIZER_CLASS, fail);
  positiveInts(c, ['model_max_length'], fail);
  const expected = { pad_token_id: 0, bos_token_id: 1, eos_token_id: 2 };
  for (const [key, id] of Object.entries(expected)) {
    if (c[key] !== id) fail(`${key} is ${JSON.stringify(c[key])}; the tokenizer rules use ${id}`);
  }
  return c as unknown as TokenizerConfig;
}

/** tokenizer/vocab.json: a list of distinct words, the special tokens first. */
export function parseVocab(json: unknown, file: string): string[] {
  const fail = failIn(file);
  if (!Array.isArray(json) || !json.every((w) => typeof w === 'string')) {
    return fail('must be a JSON list of words');
  }
  const specials = ['[PAD]', '[BOS]', '[EOS]', '[UNK]'];
  specials.forEach((s, i) => {
    if (json[i] !== s) fail(`entry ${i} is ${JSON.stringify(json[i])}, expected "${s}"`);
  });
  const seen = new Set<string>();
  for (const w of json as string[]) {
    if (seen.has(w)) fail(`word ${JSON.stringify(w)} is listed twice`);
    seen.add(w);
  }
  return json as string[];
}
