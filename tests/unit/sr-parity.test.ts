// The browser super-resolution U-Net (src/engine/sr) against PyTorch (training/sr/sr_unet.py) on fixed
// inputs. training/sr/export_sr.py writes the shipped weights and, from the same float16-rounded
// weights, the PyTorch outputs in tests/fixtures/parity-emoji-sr.json; this test loads the shipped
// files as the app does and must reproduce them.
//
// Tolerance: max |tfjs - torch| <= 1e-3 over every output value, as the other parity tests: both sides
// run float32 on the same weights, so only summation order differs (~1e-6..1e-5); a port error
// (skip order, padding, embedding, concatenation order) shows up as O(0.1-1).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { loadSRFromFiles, type LoadedSR } from '../../src/engine/sr/loadSR';
import { expectedSRTensorShapes, planSRUNet } from '../../src/engine/sr/srUNet';
import { parseSRUNetConfig } from '../../src/engine/sr/srCard';

const TOLERANCE = 1e-3;
const ROOT = join(__dirname, '..', '..');
// SR_PARITY_DIR=/tmp/x checks a scratch export (x/emoji-sr/ and x/parity.json).
const SCRATCH = process.env.SR_PARITY_DIR;
const MODEL_DIR = SCRATCH ? join(SCRATCH, 'emoji-sr') : join(ROOT, 'public', 'models', 'emoji-sr');
const FIXTURE = SCRATCH
  ? join(SCRATCH, 'parity.json')
  : join(ROOT, 'tests', 'fixtures', 'parity-emoji-sr.json');
const SHIPPED = existsSync(join(MODEL_DIR, 'card.json')) && existsSync(FIXTURE);

interface ParityCase {
  sample_shape: [number, number, number, number];
  sample: number[];
  timesteps: number[];
  low_res_shape: [number, number, number, number];
  low_res: number[];
  noise_levels: number[];
  output_shape: [number, number, number, number];
  output: number[];
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

it('plans the same tensors as sr_unet.py for the default config', () => {
  const cfg = parseSRUNetConfig({
    sample_size: 64,
    low_res_size: 32,
    in_channels: 6,
    out_channels: 3,
    block_out_channels: [24, 32, 64],
    layers_per_block: 1,
    norm_num_groups: 8,
    norm_eps: 1e-5,
    flip_sin_to_cos: true,
    freq_shift: 0,
    time_embedding_dim: 128,
    add_attention: false,
    class_embed_type: 'timestep',
    low_res_upsample: 'nearest',
    max_noise_level: 350,
  });
  const shapes = expectedSRTensorShapes(cfg);
  let count = 0;
  for (const shape of shapes.values()) count += shape.reduce((a, b) => a * b, 1);
  expect(count).toBe(720243); // python3 training/sr/sr_unet.py
  const plan = planSRUNet(cfg);
  expect(plan.up.map((l) => l.resnets.map((r) => r.inChannels))).toEqual([
    [128, 96],
    [96, 56],
    [56, 48],
  ]);
});

describe.runIf(SHIPPED).each(['cpu', 'wasm'] as const)(
  'SR U-Net parity with PyTorch on %s',
  (backend) => {
    let sr: LoadedSR;
    const fixture = SHIPPED ? (readJson(FIXTURE) as { cases: ParityCase[] }) : { cases: [] };

    beforeAll(async () => {
      expect(await tf.setBackend(backend)).toBe(true);
      const cardJson = readJson(join(MODEL_DIR, 'card.json')) as {
        components: { unet: { config: string; weights: { file: string } } };
      };
      const unet = cardJson.components.unet;
      sr = await loadSRFromFiles(
        cardJson,
        readJson(join(MODEL_DIR, unet.config)),
        toArrayBuffer(readFileSync(join(MODEL_DIR, unet.weights.file))),
      );
    });
    afterAll(() => sr?.unet.dispose());

    it.each([0, 1])('reproduces case %i within 1e-3', (i) => {
      const c = fixture.cases[i];
      const before = tf.memory().numTensors;
      const out = tf.tidy(() =>
        sr.unet.predict(
          tf.tensor4d(c.sample, c.sample_shape),
          c.timesteps,
          tf.tensor4d(c.low_res, c.low_res_shape),
          c.noise_levels,
        ),
      );
      expect(out.shape).toEqual(c.output_shape);
      const diff = maxAbsDiff(out.dataSync(), c.output);
      out.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(diff).toBeLessThan(TOLERANCE);
    });
  },
);
