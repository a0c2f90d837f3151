// The browser U-Net (src/engine/model) against PyTorch (training/unet.py) on fixed inputs.
// training/export.py writes the shipped weights and, with the same float16-rounded weights, the
// PyTorch outputs in tests/fixtures/parity-<id>.json; this test loads the shipped files exactly as
// the app does and must reproduce those outputs.
//
// Tolerance: max |tfjs - torch| <= 1e-3 over every output value. Both sides run float32 on the same
// weights, so the only differences are summation order inside convs/matmuls/norms (measured ~1e-6
// to 1e-5); the outputs (predicted noise) have std ~1, and a port error (wrong padding, transposed
// kernel, wrong skip order, wrong embedding) shows up as O(0.1-1). 1e-3 is far below anything that
// changes a sample (the samplers add noise of std ~1e-2 or more per step) yet 100x above rounding.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { loadUNet, parseModelCard, timestepFeatures, type UNet } from '../../src/engine/model';

const TOLERANCE = 1e-3;
const ROOT = join(__dirname, '..', '..');
// Overridable so the same test can check a scratch export: MODEL_PARITY_DIR=/tmp/x (holding
// models/<id>/ and fixtures/parity-<id>.json).
const SCRATCH = process.env.MODEL_PARITY_DIR;
const MODELS_DIR = SCRATCH ? join(SCRATCH, 'models') : join(ROOT, 'public', 'models');
const FIXTURES_DIR = SCRATCH ? join(SCRATCH, 'fixtures') : join(ROOT, 'tests', 'fixtures');
const MODEL_IDS = ['mnist', 'fashion-mnist', 'mnist-linear'].filter((id) =>
  existsSync(join(FIXTURES_DIR, `parity-${id}.json`)),
);

interface ParityFixture {
  layout: 'NHWC';
  x_t_shape: [number, number, number, number];
  x_t: number[];
  timesteps: number[];
  class_ids: number[];
  timestep_features_shape: [number, number];
  timestep_features: number[];
  output_shape: [number, number, number, number];
  output: number[];
  output_std: number;
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

it('has at least one shipped model with a parity fixture', () => {
  expect(MODEL_IDS.length).toBeGreaterThan(0);
});

// cpu is the reference JS kernels; wasm is what the app runs on machines without a real GPU.
const BACKENDS = ['cpu', 'wasm'] as const;
const CASES = MODEL_IDS.flatMap((id) => BACKENDS.map((backend) => [id, backend] as const));

describe.each(CASES)('U-Net parity with PyTorch: %s on %s', (id, backend) => {
  const fixture = JSON.parse(
    readFileSync(join(FIXTURES_DIR, `parity-${id}.json`), 'utf8'),
  ) as ParityFixture;
  const card = parseModelCard(
    JSON.parse(readFileSync(join(MODELS_DIR, id, 'card.json'), 'utf8')),
    `${id}/card.json`,
  );
  let unet: UNet;

  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
    const weights = toArrayBuffer(readFileSync(join(MODELS_DIR, id, card.weights.file)));
    unet = await loadUNet(card, weights); // also verifies sha256, shapes and finite values
  });
  afterAll(() => unet?.dispose());

  it('computes the same sinusoidal timestep features', () => {
    const { timestep_features: dim, timestep_max_period: period } = card.architecture;
    const features = timestepFeatures(fixture.timesteps, dim, period);
    expect(features.length).toBe(fixture.timestep_features.length);
    // Both sides compute in double precision and round once to float32: identical or 1 ulp.
    expect(maxAbsDiff(features, fixture.timestep_features)).toBeLessThanOrEqual(1e-7);
  });

  it(`matches the PyTorch outputs within ${TOLERANCE}`, () => {
    const x = tf.tensor4d(fixture.x_t, fixture.x_t_shape);
    const out = unet.predict(x, fixture.timesteps, fixture.class_ids);
    expect(out.shape).toEqual(fixture.output_shape);
    const values = out.dataSync();
    const diff = maxAbsDiff(values, fixture.output);
    console.log(
      `[parity ${id} ${backend}] max |tfjs - torch| = ${diff.toExponential(2)} ` +
        `(output std ${fixture.output_std.toFixed(3)}, tolerance ${TOLERANCE})`,
    );
    expect(diff).toBeLessThanOrEqual(TOLERANCE);
    tf.dispose([x, out]);
  });

  it('does not leak tensors across predictions', () => {
    const [, h, w, c] = fixture.x_t_shape;
    const x = tf.zeros([1, h, w, c]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    tf.dispose(unet.predict(x, 500, [card.null_class_id]));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
