// The browser emoji pipeline (src/engine/emoji) against PyTorch (training/emoji/*.py) on the shipped
// float16 weights. training/emoji/export_pipeline.py writes tests/fixtures/parity-emoji-pipeline.json
// (tokenizer cases, text-encoder hidden states, U-Net outputs) and export_vae.py
// parity-emoji-vae.json (posterior mean / logvar, decoder outputs); this test loads
// public/models/emoji/ exactly as the app does (loadEmojiPipeline, checksums included) and must
// reproduce them.
//
// Tolerances, as tests/unit/model-parity.test.ts argues: both sides run float32 on the same
// weights, so only summation order differs (~1e-6..1e-5 relative). The text hidden states and the
// U-Net's v are O(1): max |diff| <= 1e-3. The decoder's pixels are in about [-1, 1]: 1e-3 too. The
// posterior logvar of a nearly deterministic VAE is large and negative (about -10) and goes
// through many layers, so it gets 5e-3; a port error (padding, layout, eps) is O(0.1) or more.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { loadEmojiPipeline, type EmojiPipeline } from '../../src/engine/emoji';
import { wasmKernelsReady } from '../../src/engine/kernels';
import { diskFetch, readJson } from './emojiTestFiles';

const ROOT = join(__dirname, '..', '..');
const MODEL_DIR = join(ROOT, 'public', 'models', 'emoji');
const PIPELINE = readJson(join(ROOT, 'tests', 'fixtures', 'parity-emoji-pipeline.json')) as {
  tokenizer_cases: { text: string; ids: number[]; unknown: string[]; truncated: boolean }[];
  prompts: string[];
  token_ids: number[][];
  text_hidden_shape: [number, number, number];
  text_hidden: number[];
  latents_shape: [number, number, number, number];
  latents: number[];
  timesteps: number[];
  unet_output: number[];
};
const VAE = readJson(join(ROOT, 'tests', 'fixtures', 'parity-emoji-vae.json')) as {
  images_shape: [number, number, number, number];
  images: number[];
  latent_mean_shape: [number, number, number, number];
  latent_mean: number[];
  latent_logvar: number[];
  decoded_from_mean: number[];
  random_latents_shape: [number, number, number, number];
  random_latents: number[];
  decoded_from_random: number[];
};

const TOLERANCE = 1e-3;
const LOGVAR_TOLERANCE = 5e-3;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Values of a tensor, disposing it. */
function take(t: tf.Tensor): Float32Array {
  const values = t.dataSync() as Float32Array;
  t.dispose();
  return values;
}

// cpu runs the plain tfjs ops (no fused kernels) for the text encoder and U-Net; the VAE at 32x32
// takes a minute there on a busy machine, so it runs on wasm only (the ops it shares are covered).
describe.each(['cpu', 'wasm'] as const)('emoji pipeline parity with PyTorch on %s', (backend) => {
  let pipe: EmojiPipeline;
  const onWasm = backend === 'wasm';

  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
    pipe = await loadEmojiPipeline(MODEL_DIR, diskFetch());
    if (backend === 'wasm') expect(wasmKernelsReady()).toBe(true); // the fused kernels are tested
  });
  afterAll(() => pipe?.dispose());

  it('tokenizes every fixture case exactly', () => {
    for (const c of PIPELINE.tokenizer_cases) {
      const t = pipe.tokenizer.encode(c.text);
      expect({ text: c.text, ids: t.ids, unknown: t.unknown, truncated: t.truncated }).toEqual(c);
    }
    PIPELINE.prompts.forEach((p, i) =>
      expect(pipe.tokenizer.encode(p).ids).toEqual(PIPELINE.token_ids[i]),
    );
  });

  it('encodes text to the same hidden states', () => {
    const hidden = take(pipe.textEncoder.encode(PIPELINE.token_ids));
    expect(maxAbsDiff(hidden, PIPELINE.text_hidden)).toBeLessThan(TOLERANCE);
    // encodePrompt is the same path from the text
    const one = pipe.encodePrompt(PIPELINE.prompts[1]);
    const [, l, d] = PIPELINE.text_hidden_shape;
    expect(one.hidden.shape).toEqual([1, l, d]);
    expect(maxAbsDiff(take(one.hidden), PIPELINE.text_hidden.slice(l * d, 2 * l * d))).toBeLessThan(
      TOLERANCE,
    );
  });

  it('predicts the same U-Net output (v) for latents, fractional timesteps and text', () => {
    const [b, l, d] = PIPELINE.text_hidden_shape;
    const context = tf.tensor3d(PIPELINE.text_hidden, [b, l, d]);
    const x = tf.tensor4d(PIPELINE.latents, PIPELINE.latents_shape);
    const out = take(pipe.unet.predict(x, PIPELINE.timesteps, context));
    tf.dispose([context, x]);
    const diff = maxAbsDiff(out, PIPELINE.unet_output);
    expect(diff).toBeLessThan(TOLERANCE);
  });

  it('maps prompt / negative prompt to class 0 / 1 in the denoiser', () => {
    // Rows 0 and 1 of the fixture: "red heart" and "cat face", as prompt and negative prompt.
    const [, l, d] = PIPELINE.text_hidden_shape;
    const heart = tf.tensor3d(PIPELINE.text_hidden.slice(0, l * d), [1, l, d]);
    const cat = tf.tensor3d(PIPELINE.text_hidden.slice(l * d, 2 * l * d), [1, l, d]);
    pipe.denoiser.setPrompt(heart, cat);
    const n = 8 * 8 * 4;
    const x = tf.tensor4d(PIPELINE.latents.slice(0, 2 * n), [2, 8, 8, 4]);
    const ts = PIPELINE.timesteps.slice(0, 2);
    // Image 0 with the prompt, image 1 with the negative prompt = fixture rows 0 and 1.
    const out = take(pipe.denoiser.predict(x, ts, [0, 1]));
    expect(maxAbsDiff(out, PIPELINE.unet_output.slice(0, 2 * n))).toBeLessThan(TOLERANCE);
    expect(pipe.denoiser.predictionType).toBe('v_prediction');
    expect(pipe.denoiser.nullClass).toBe(1);
    expect(pipe.denoiser.imageShape).toEqual([8, 8, 4]);
    tf.dispose([heart, cat, x]);
  });

  it.runIf(onWasm)('encodes images to the same posterior mean and logvar', () => {
    const images = tf.tensor4d(VAE.images, VAE.images_shape);
    const { mean, logvar } = pipe.vae.encode(images);
    expect(mean.shape).toEqual(VAE.latent_mean_shape);
    expect(maxAbsDiff(take(mean), VAE.latent_mean)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(take(logvar), VAE.latent_logvar)).toBeLessThan(LOGVAR_TOLERANCE);
    // pipeline.encode: the posterior mean, normalised with latents_mean / latents_std
    const cfg = pipe.vae.config;
    const normalised = take(pipe.encode(images));
    const expected = VAE.latent_mean.map(
      (z, i) => (z - cfg.latents_mean[i % 4]) / cfg.latents_std[i % 4],
    );
    expect(maxAbsDiff(normalised, expected)).toBeLessThan(TOLERANCE);
    // With noise: a sample of the posterior, mean + exp(logvar / 2) * noise, then normalised.
    const ones = tf.ones(VAE.latent_mean_shape) as tf.Tensor4D;
    const sampled = take(pipe.encode(images, ones));
    const expectedSample = VAE.latent_mean.map(
      (z, i) =>
        (z + Math.exp(VAE.latent_logvar[i] / 2) - cfg.latents_mean[i % 4]) / cfg.latents_std[i % 4],
    );
    expect(maxAbsDiff(sampled, expectedSample)).toBeLessThan(TOLERANCE);
    tf.dispose(ones);
    images.dispose();
  });

  it.runIf(onWasm)('decodes latents to the same pixels', () => {
    const mean = tf.tensor4d(VAE.latent_mean, VAE.latent_mean_shape);
    expect(maxAbsDiff(take(pipe.vae.decode(mean)), VAE.decoded_from_mean)).toBeLessThan(TOLERANCE);
    const random = tf.tensor4d(VAE.random_latents, VAE.random_latents_shape);
    expect(maxAbsDiff(take(pipe.vae.decode(random)), VAE.decoded_from_random)).toBeLessThan(
      TOLERANCE,
    );
    // pipeline.decode of the normalised mean: the same pixels, clamped to [-1, 1]
    const cfg = pipe.vae.config;
    const normalised = tf.tensor4d(
      VAE.latent_mean.map((z, i) => (z - cfg.latents_mean[i % 4]) / cfg.latents_std[i % 4]),
      VAE.latent_mean_shape,
    );
    const pixels = take(pipe.decode(normalised));
    const clamped = VAE.decoded_from_mean.map((v) => Math.min(1, Math.max(-1, v)));
    expect(maxAbsDiff(pixels, clamped)).toBeLessThan(TOLERANCE);
    tf.dispose([mean, random, normalised]);
  });

  it.runIf(onWasm)('leaks no tensors per call', () => {
    const before = tf.memory().numTensors;
    const x = tf.zeros([2, 8, 8, 4]) as tf.Tensor4D;
    take(pipe.denoiser.predict(x, [10, 900], [0, 1]));
    take(pipe.decode(x));
    take(pipe.encodePrompt('cat face').hidden);
    const report = pipe.setPrompt('cat face zzqx', 'red'); // replaces the held encodings
    expect(report.prompt).toEqual({ unknown: ['zzqx'], truncated: false, words: 2 });
    take(pipe.denoiser.predict(x, [10, 900], [0, 1]));
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
