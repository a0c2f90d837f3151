// Bad pipelines: loadEmojiPipeline must refuse a missing or mismatched component with a
// ModelLoadError naming the file and the problem (the app shows it and keeps working). Each case
// serves public/models/emoji/ with one file changed or removed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadEmojiPipeline } from '../../src/engine/emoji';
import { ModelLoadError } from '../../src/engine/model';
import { diskFetch, readJson } from './emojiTestFiles';

const DIR = join(__dirname, '..', '..', 'public', 'models', 'emoji');
const json = (path: string) => readJson(join(DIR, path));

/** The error loading the pipeline with `override` (file suffix -> new JSON or bytes, null = gone). */
async function loadError(override: Record<string, unknown>): Promise<ModelLoadError> {
  try {
    const pipe = await loadEmojiPipeline(DIR, diskFetch(override));
    pipe.dispose();
  } catch (err) {
    expect(err).toBeInstanceOf(ModelLoadError);
    return err as ModelLoadError;
  }
  throw new Error('the pipeline loaded');
}

beforeAll(async () => {
  expect(await tf.setBackend('cpu')).toBe(true);
});

describe('loadEmojiPipeline refuses a bad pipeline, naming the file', () => {
  it('a component missing from model_index.json', async () => {
    const index = json('model_index.json');
    delete index.vae;
    const err = await loadError({ 'model_index.json': index });
    expect(err.file).toMatch(/model_index\.json$/);
    expect(err.problem).toMatch(/names no "vae" component/);
  });

  it('a component of another class', async () => {
    const index = { ...json('model_index.json'), vae: ['diffusers', 'AutoencoderKL'] };
    const err = await loadError({ 'model_index.json': index });
    expect(err.message).toMatch(/"vae" is "AutoencoderKL"; this port runs "EmojiAutoencoderKL"/);
  });

  it('a component the card does not describe', async () => {
    const card = json('card.json');
    delete (card.components as Record<string, unknown>).text_encoder;
    const err = await loadError({ 'card.json': card });
    expect(err.file).toMatch(/card\.json$/);
    expect(err.problem).toMatch(/components\.text_encoder is missing/);
  });

  it('a missing config or weights file', async () => {
    const config = await loadError({ 'unet/config.json': null });
    expect(config.file).toMatch(/unet\/config\.json$/);
    expect(config.problem).toMatch(/HTTP 404/);
    const weights = await loadError({ 'vae/diffusion_pytorch_model.safetensors': null });
    expect(weights.file).toMatch(/vae\/diffusion_pytorch_model\.safetensors$/);
  });

  it('a U-Net whose cross-attention does not fit the text encoder', async () => {
    const unet = { ...json('unet/config.json'), cross_attention_dim: 64 };
    const err = await loadError({ 'unet/config.json': unet });
    expect(err.file).toMatch(/unet\/config\.json$/);
    expect(err.problem).toMatch(
      /cross_attention_dim is 64 but the text encoder's hidden_size is 128/,
    );
  });

  it("a vocabulary that does not match the text encoder's embedding", async () => {
    const vocab = (json('tokenizer/vocab.json') as unknown as string[]).slice(0, 3000);
    const err = await loadError({ 'tokenizer/vocab.json': vocab });
    expect(err.file).toMatch(/text_encoder\/config\.json$/);
    expect(err.problem).toMatch(/vocab_size is \d+ but .*vocab\.json has 3000 words/);
  });

  it('latent channels that do not agree between U-Net and autoencoder', async () => {
    const unet = { ...json('unet/config.json'), in_channels: 3 };
    const err = await loadError({ 'unet/config.json': unet });
    expect(err.problem).toMatch(
      /in_channels 3 .* do not match the autoencoder's latent_channels 4/,
    );
  });

  it('a config whose architecture the weights do not have', async () => {
    const shipped = json('unet/config.json');
    const wider = (shipped.block_out_channels as number[]).map((c) => 2 * c);
    const unet = { ...shipped, block_out_channels: wider };
    const err = await loadError({ 'unet/config.json': unet });
    expect(err.file).toMatch(/unet\/diffusion_pytorch_model\.safetensors$/);
    expect(err.problem).toMatch(
      /tensor \S+ has shape \[[\d, ]+\] but .*unet\/config\.json implies \[[\d, ]+\]/,
    );
  });

  it('truncated or corrupted weights (byte length and sha256 against the card)', async () => {
    const file = 'text_encoder/model.safetensors';
    const bytes = new Uint8Array(readFileSync(join(DIR, file)));
    const truncated = await loadError({ [file]: bytes.slice(0, 1000) });
    expect(truncated.problem).toMatch(
      /is 1000 bytes but .*card\.json says \d+ \(truncated download\?\)/,
    );
    const corrupted = bytes.slice();
    corrupted[corrupted.length - 1] ^= 0xff;
    const err = await loadError({ [file]: corrupted });
    expect(err.file).toMatch(/text_encoder\/model\.safetensors$/);
    expect(err.problem).toMatch(/sha256 is [0-9a-f]{64} but .*card\.json says/);
  });

  it('a scheduler config that disagrees with the card on the prediction type', async () => {
    const sched = { ...json('scheduler/scheduler_config.json'), prediction_type: 'epsilon' };
    const err = await loadError({ 'scheduler/scheduler_config.json': sched });
    expect(err.file).toMatch(/scheduler_config\.json$/);
    expect(err.problem).toMatch(/prediction_type epsilon but card\.json says v_prediction/);
  });
});
