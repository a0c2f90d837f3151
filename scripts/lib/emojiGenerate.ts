// Headless text-to-image with the emoji latent pipeline: the same DiffusionRun as the class models
// (src/engine/run/), driven by the pipeline's TextLatentDenoiser over 8x8x4 latents, then the
// final latents through the VAE decoder. Used by scripts/lib/generate.ts (`npm run generate --
// --model emoji --prompt ...`) and bench/emoji.ts.
import { existsSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { loadEmojiPipeline, type EmojiPipeline, type PromptReport } from '../../src/engine/emoji';
import { PROMPT_CLASS } from '../../src/engine/emoji/textLatentDenoiser';
import { DiffusionRun, type RunModel } from '../../src/engine/run/diffusionRun';
import type { RunSettings, SigmaSchedule } from '../../src/engine/run/settings';
import type { TimestepSpacing } from '../../src/engine/schedulers/types';

/** fetch over local files, so the engine's loader reads a pipeline folder as the worker does. */
export function diskFetch(): typeof fetch {
  return (async (input: RequestInfo | URL) => {
    const path = String(input);
    if (!existsSync(path))
      return new Response('not found', { status: 404, statusText: 'Not Found' });
    return new Response(readFileSync(path) as Uint8Array<ArrayBuffer>);
  }) as typeof fetch;
}

export function loadDiskPipeline(dir: string): Promise<EmojiPipeline> {
  return loadEmojiPipeline(dir, diskFetch());
}

export interface EmojiRunOptions {
  prompt: string;
  negativePrompt: string;
  /** One per image: the batch. */
  seeds: number[];
  sampler: string;
  steps: number;
  guidance: number;
  eta: number;
  spacing: TimestepSpacing | null;
  schedule: SigmaSchedule;
}

export interface EmojiBatch {
  /** NHWC [n, 32, 32, 3] in [-1, 1]. */
  pixels: Float32Array;
  /** The final normalised latents [n, 8, 8, 4]. */
  latents: Float32Array;
  modelCalls: number;
  prompt: PromptReport;
  negative: PromptReport;
}

/**
 * One batch: sets the prompts on the denoiser, runs a DiffusionRun to its end and decodes. `model`
 * defaults to the pipeline's own RunModel (a caller may wrap its denoiser, e.g. to time calls).
 */
export function generateEmojiBatch(
  pipe: EmojiPipeline,
  o: EmojiRunOptions,
  model: RunModel = pipe.runModel,
): EmojiBatch {
  const reports = pipe.setPrompt(o.prompt, o.negativePrompt);
  const settings: RunSettings = {
    sampler: o.sampler,
    steps: o.steps,
    spacing: o.spacing,
    sigmaSchedule: o.schedule,
    guidanceScale: o.guidance,
    eta: o.eta,
    classes: o.seeds.map(() => PROMPT_CLASS),
    seeds: o.seeds,
    inpaint: null,
    img2img: null,
  };
  const run = new DiffusionRun(model, settings);
  let modelCalls = 0;
  try {
    while (!run.done) {
      run.step();
      modelCalls++;
    }
    const latents = run.displaySample(); // at the end of the plan: the sample itself (sigma 0)
    const [h, w, c] = pipe.latentShape;
    const pixels = tf.tidy(() =>
      pipe.decode(tf.tensor4d(latents, [o.seeds.length, h, w, c])).dataSync(),
    ) as Float32Array;
    return { pixels, latents, modelCalls, prompt: reports.prompt, negative: reports.negative };
  } finally {
    run.dispose();
  }
}

/** "ignored: zzqx; cut after 14 words" or '' when the tokenizer took every word. */
export function describePrompt(
  what: string,
  text: string,
  r: PromptReport,
  maxWords: number,
): string {
  const notes: string[] = [];
  if (r.unknown.length) notes.push(`ignored unknown word(s): ${r.unknown.join(', ')}`);
  if (r.truncated) notes.push(`truncated to its first ${maxWords} known words`);
  if (text.trim() !== '' && r.words === 0) notes.push('no known words left: unconditional');
  return notes.length ? `${what} ${JSON.stringify(text)}: ${notes.join('; ')}` : '';
}

/** [-1, 1] RGB floats of one image to bytes. */
export function rgbBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Math.round((values[i] + 1) * 127.5);
    out[i] = Number.isNaN(v) ? 0 : v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

/** Tiles RGB images (each width x height x 3) into `cols` columns with `gap` px of grey between. */
export function rgbContactSheet(
  images: Uint8Array[],
  size: { width: number; height: number },
  cols: number,
  gap = 2,
): { rgb: Uint8Array; width: number; height: number } {
  const rows = Math.max(1, Math.ceil(images.length / cols));
  const width = cols * size.width + (cols + 1) * gap;
  const height = rows * size.height + (rows + 1) * gap;
  const rgb = new Uint8Array(width * height * 3).fill(128);
  images.forEach((image, i) => {
    const x0 = gap + (i % cols) * (size.width + gap);
    const y0 = gap + Math.floor(i / cols) * (size.height + gap);
    for (let y = 0; y < size.height; y++) {
      const row = image.subarray(y * size.width * 3, (y + 1) * size.width * 3);
      rgb.set(row, ((y0 + y) * width + x0) * 3);
    }
  });
  return { rgb, width, height };
}
