// The emoji pipeline through the same DiffusionRun as the class models: the prompt is data the
// denoiser carries, so it can be replaced between two steps of a run (the rest of the run then
// follows the new prompt), and the run's final latents decode to colour images.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { loadEmojiPipeline, type EmojiPipeline } from '../../src/engine/emoji';
import { DiffusionRun } from '../../src/engine/run/diffusionRun';
import type { RunSettings } from '../../src/engine/run/settings';
import { diskFetch } from './emojiTestFiles';

const DIR = join(__dirname, '..', '..', 'public', 'models', 'emoji');
const SETTINGS: RunSettings = {
  sampler: 'DDIM',
  steps: 4,
  spacing: null,
  sigmaSchedule: 'default',
  guidanceScale: 5,
  eta: 0,
  classes: [0, 0],
  seeds: [3, 4],
  inpaint: null,
  img2img: null,
};

describe('emoji pipeline in a DiffusionRun (wasm)', () => {
  let pipe: EmojiPipeline;
  beforeAll(async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    pipe = await loadEmojiPipeline(DIR, diskFetch());
  });
  afterAll(() => pipe?.dispose());

  /** Sample after every step; `change` runs before step `at`. */
  function run(change?: { at: number; apply: () => void }): Float32Array[] {
    const r = new DiffusionRun(pipe.runModel, SETTINGS);
    const samples: Float32Array[] = [];
    try {
      for (let i = 0; !r.done; i++) {
        if (change && change.at === i) change.apply();
        samples.push(r.step().sample);
      }
    } finally {
      r.dispose();
    }
    return samples;
  }

  it('follows a prompt replaced mid-run from the next step on', () => {
    const before = tf.memory().numTensors;
    pipe.setPrompt('red heart');
    const steady = run();
    pipe.setPrompt('red heart');
    const switched = run({ at: 2, apply: () => pipe.setPrompt('cat face') });
    expect(steady).toHaveLength(4);
    expect(switched[0]).toEqual(steady[0]);
    expect(switched[1]).toEqual(steady[1]);
    const diff = switched[3].reduce((m, v, i) => Math.max(m, Math.abs(v - steady[3][i])), 0);
    expect(diff).toBeGreaterThan(0.05);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("decodes the run's final latents to 32x32 colour images in [-1, 1]", () => {
    pipe.setPrompt('red heart');
    const latents = run().at(-1) as Float32Array;
    const pixels = tf.tidy(() => pipe.decode(tf.tensor4d(latents, [2, 8, 8, 4])).dataSync());
    expect(pixels.length).toBe(2 * 32 * 32 * 3);
    expect(Math.max(...pixels)).toBeLessThanOrEqual(1);
    expect(Math.min(...pixels)).toBeGreaterThanOrEqual(-1);
    // Colour: the channels of a pixel differ (a grey image has r = g = b everywhere).
    let spread = 0;
    for (let i = 0; i < pixels.length; i += 3) {
      spread += Math.max(pixels[i], pixels[i + 1], pixels[i + 2]);
      spread -= Math.min(pixels[i], pixels[i + 1], pixels[i + 2]);
    }
    expect(spread / (pixels.length / 3)).toBeGreaterThan(0.05);
  });
});
