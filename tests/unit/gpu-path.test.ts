// The GPU path's parts that run without a GPU (src/engine/gpu): float16 conversion, the f16
// accuracy check of the shipped U-Nets against float32, adapter limits and batch splitting, the
// dispatch trace. What needs a real GPU with shader-f16 is not run here (README, "GPU path").
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import {
  FLOAT16_MAX,
  FLOAT16_MIN_SUBNORMAL,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  roundToFloat16,
  toFloat16Bits,
  fromFloat16Bits,
} from '../../src/engine/gpu/float16';
import {
  footprintFromProfile,
  maxBatchForLimits,
  planBatches,
  readLimits,
  WEBGPU_DEFAULT_LIMITS,
} from '../../src/engine/gpu/limits';
import { withBatchLimit } from '../../src/engine/gpu/batchLimit';
import { compareOutputs, F16_TOLERANCE, planPrecision } from '../../src/engine/gpu/precision';
import { DispatchTracer } from '../../src/engine/gpu/dispatchTrace';
import { roundTensorToFloat16, withFloat16Storage } from '../../src/engine/gpu/float16Check';
import { F16_CHECKS } from '../../src/engine/gpu/f16Checks';
import type { DenoiseModel } from '../../src/engine/denoiser';
import { decodeWeights, loadUNet, parseModelCard, type UNet } from '../../src/engine/model';

const ROOT = join(__dirname, '..', '..');

describe('float16 conversion', () => {
  it('every f16 bit pattern decodes and encodes back to itself', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const v = float16BitsToFloat32(bits);
      if (Number.isNaN(v)) {
        expect(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(v)))).toBe(true);
        continue;
      }
      expect(float32ToFloat16Bits(v)).toBe(bits);
    }
  });

  it('rounds to nearest, ties to even, overflows to infinity, underflows to zero', () => {
    expect(roundToFloat16(1)).toBe(1);
    expect(roundToFloat16(1 + 2 ** -11)).toBe(1); // tie: to the even mantissa
    expect(roundToFloat16(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9); // tie: up to the even one
    expect(roundToFloat16(1 + 2 ** -11 + 2 ** -20)).toBe(1 + 2 ** -10);
    expect(roundToFloat16(FLOAT16_MAX)).toBe(FLOAT16_MAX);
    expect(roundToFloat16(65519)).toBe(FLOAT16_MAX);
    expect(roundToFloat16(65520)).toBe(Infinity); // halfway to 65536: ties to even = overflow
    expect(roundToFloat16(-1e6)).toBe(-Infinity);
    expect(roundToFloat16(FLOAT16_MIN_SUBNORMAL)).toBe(FLOAT16_MIN_SUBNORMAL);
    expect(roundToFloat16(2 ** -25)).toBe(0); // halfway to the smallest subnormal: to even (0)
    expect(roundToFloat16(1.5 * 2 ** -25)).toBe(FLOAT16_MIN_SUBNORMAL);
    expect(Object.is(roundToFloat16(-0), -0)).toBe(true);
    expect(Number.isNaN(roundToFloat16(NaN))).toBe(true);
  });

  it('gives the nearest f16 of random values of every magnitude', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    for (let i = 0; i < 20000; i++) {
      // Magnitudes from the subnormals (2^-26) to near the largest finite f16 (2^15).
      const v = Math.fround(rand() * 2 ** Math.round(rand() * 20.5 - 5.5));
      const r = roundToFloat16(v);
      expect(Number.isFinite(r)).toBe(true);
      const bits = float32ToFloat16Bits(v);
      // Neighbours of the chosen pattern are no closer.
      for (const n of [bits - 1, bits + 1]) {
        if ((n & 0x7fff) >= 0x7c00 || n < 0 || n > 0xffff || (n ^ bits) & 0x8000) continue;
        expect(Math.abs(float16BitsToFloat32(n) - v)).toBeGreaterThanOrEqual(Math.abs(r - v));
      }
    }
    const values = Float32Array.from([0.1, -2.5, 3e-6, 70000]);
    expect(Array.from(fromFloat16Bits(toFloat16Bits(values)))).toEqual(
      Array.from(values, roundToFloat16),
    );
  });
});

describe('adapter limits and batch splitting', () => {
  it('reads limits, missing or bad ones at the WebGPU defaults', () => {
    expect(readLimits(null)).toEqual(WEBGPU_DEFAULT_LIMITS);
    expect(readLimits({ maxBufferSize: 2 ** 31, maxStorageBufferBindingSize: NaN })).toEqual({
      ...WEBGPU_DEFAULT_LIMITS,
      maxBufferSize: 2 ** 31,
    });
  });

  it('finds the largest tensor per image in a profile and the batch that fits', () => {
    const profile = {
      peakBytes: 4 * 1_000_000,
      kernels: [
        { outputShapes: [[4, 28, 28, 64]] },
        { outputShapes: [[4, 4, 196, 196], null] },
        { outputShapes: [[4, 28, 28, 1]] },
      ],
    };
    const footprint = footprintFromProfile(profile, 4);
    expect(footprint.largestTensorElementsPerSample).toBe(4 * 196 * 196);
    expect(footprint.peakBytesPerSample).toBe(1_000_000);
    // 16 MiB binding, 90% used: 15099494 B / (153664 elements x 4 B) = 24 images.
    const limits = { ...WEBGPU_DEFAULT_LIMITS, maxStorageBufferBindingSize: 16 * 2 ** 20 };
    const limit = maxBatchForLimits(footprint, limits);
    expect(limit.maxBatch).toBe(24);
    expect(limit.why).toContain('24 images per call');
    // float16 halves the bytes: twice the images.
    expect(maxBatchForLimits(footprint, limits, 2).maxBatch).toBe(49);
    // The smaller of the two buffer limits counts.
    expect(maxBatchForLimits(footprint, { ...limits, maxBufferSize: 8 * 2 ** 20 }).maxBatch).toBe(
      12,
    );
    const tiny = maxBatchForLimits(footprint, { ...limits, maxStorageBufferBindingSize: 100_000 });
    expect(tiny.maxBatch).toBe(0);
    expect(tiny.why).toContain('more than the adapter can bind');
  });

  it('plans as few calls as possible, sizes within one of each other', () => {
    expect(planBatches(32, 64)).toEqual([32]);
    expect(planBatches(32, 24)).toEqual([16, 16]);
    expect(planBatches(33, 16)).toEqual([11, 11, 11]);
    expect(planBatches(5, 2)).toEqual([2, 2, 1]);
    expect(planBatches(1, 1)).toEqual([1]);
    expect(() => planBatches(4, 0)).toThrow(/not even one image/);
    for (let batch = 1; batch <= 40; batch++) {
      for (let max = 1; max <= 12; max++) {
        const sizes = planBatches(batch, max);
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(batch);
        expect(Math.max(...sizes)).toBeLessThanOrEqual(max);
        expect(sizes.length).toBe(Math.ceil(batch / max));
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }
    }
  });
});

describe('withBatchLimit', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  /** A toy denoiser: out = x * 2 + timestep + class, so every image's output is its own. */
  function toy(calls: number[]): DenoiseModel {
    return {
      predictionType: 'epsilon',
      nullClass: 10,
      imageShape: [2, 2, 1],
      predict(x, timesteps, classes) {
        calls.push(x.shape[0]);
        return tf.tidy(() => {
          const add = tf.tensor4d(
            timesteps.map((t, i) => t + classes[i]),
            [x.shape[0], 1, 1, 1],
          );
          return x.mul(2).add(add) as tf.Tensor4D;
        });
      },
    };
  }

  it('splits a batch over the limit and returns what one call would', async () => {
    const batch = 5;
    const x = tf.randomNormal([batch, 2, 2, 1]) as tf.Tensor4D;
    const t = [1, 2, 3, 4, 5];
    const c = [0, 1, 2, 3, 10];
    const whole: number[] = [];
    const expected = await toy(whole).predict(x, t, c).array();
    const calls: number[] = [];
    const splits: number[][] = [];
    let limit = 2;
    const limited = withBatchLimit(toy(calls), {
      maxBatch: () => limit,
      onSplit: (s) => splits.push(s),
    });
    expect(limited.nullClass).toBe(10);
    const before = tf.memory().numTensors;
    const out = limited.predict(x, t, c);
    expect(tf.memory().numTensors).toBe(before + 1); // only the output is left
    expect(await out.array()).toEqual(expected);
    expect(calls).toEqual([2, 2, 1]);
    expect(splits).toEqual([[2, 2, 1]]);
    out.dispose();
    // Under the limit, or no limit known: one call.
    limit = Infinity;
    calls.length = 0;
    limited.predict(x, t, c).dispose();
    expect(calls).toEqual([5]);
    x.dispose();
  });
});

describe('precision plan', () => {
  it('float16 only with shader-f16 and a passed check', () => {
    const good = { maxAbs: 1e-3, relRms: 5e-4, nonFinite: 0 };
    expect(planPrecision(false, good).storage).toBe('float32');
    expect(planPrecision(true, null).storage).toBe('float32');
    expect(planPrecision(true, good)).toMatchObject({ storage: 'float16' });
    expect(planPrecision(true, { ...good, relRms: 0.02 }).storage).toBe('float32');
    expect(planPrecision(true, { ...good, nonFinite: 3 }).why).toContain('overflow');
  });

  it('compares outputs, counting values that overflowed in f16', () => {
    const e = compareOutputs([1, -2, 3, 70000], [1.001, -2, 3, Infinity]);
    expect(e.nonFinite).toBe(1);
    expect(e.maxAbs).toBeCloseTo(0.001, 9);
  });
});

describe('dispatch trace', () => {
  it('records the dispatches of each call through the backend, by shader family', () => {
    const issued: string[] = [];
    const backend = {
      recordAndSubmit(program: { shaderKey: string }) {
        issued.push(program.shaderKey);
      },
    };
    const tracer = new DispatchTracer(2, true);
    expect(tracer.attach(backend)).toBe(true);
    expect(tracer.attach({})).toBe(false);
    const run = (keys: string[]) =>
      keys.forEach((k, i) =>
        backend.recordAndSubmit({
          shaderKey: k,
          dispatch: [i + 1, 70000, 1],
          outputShape: [2, 3],
        } as { shaderKey: string }),
      );
    tracer.record('step 1', 4, () => run(['conv2DMM_a', 'conv2DMM_b', 'binary_add_c']));
    tracer.record(
      'step 2',
      4,
      () => run(['binary_mul']),
      () => [2, 2],
    );
    tracer.record('step 3', 4, () => run([]));
    backend.recordAndSubmit({ shaderKey: 'outside' }); // not in a record: not traced
    expect(issued).toHaveLength(5);
    expect(tracer.traces.map((t) => t.label)).toEqual(['step 2', 'step 3']); // keeps 2
    const [two, three] = tracer.traces;
    expect(two).toMatchObject({ dispatches: 1, split: [2, 2], byKind: [['binary', 1]] });
    expect(two.maxWorkgroupsPerDimension).toBe(70000);
    expect(two.largestOutputElements).toBe(6);
    expect(two.list?.[0].kind).toBe('binary');
    expect(three.dispatches).toBe(0);
  });
});

// The shipped U-Nets with float16 storage of weights and activations (f32 arithmetic inside each
// kernel), simulated on wasm, against float32 on the parity fixture's inputs.
describe.each(['mnist', 'fashion-mnist', 'mnist-linear'])('f16 accuracy of %s', (id) => {
  const fixture = JSON.parse(
    readFileSync(join(ROOT, 'tests/fixtures', `parity-${id}.json`), 'utf8'),
  ) as {
    x_t: number[];
    x_t_shape: [number, number, number, number];
    timesteps: number[];
    class_ids: number[];
  };
  const card = parseModelCard(
    JSON.parse(readFileSync(join(ROOT, 'public/models', id, 'card.json'), 'utf8')),
    `${id}/card.json`,
  );
  const bytes = readFileSync(join(ROOT, 'public/models', id, card.weights.file));
  const weights = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  let unet: UNet;

  beforeAll(async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    unet = await loadUNet(card, weights as ArrayBuffer);
  });
  afterAll(() => unet?.dispose());

  it('has weights that are float16 values already (storing them as f16 loses nothing)', async () => {
    const host = await decodeWeights(card, weights as ArrayBuffer);
    let changed = 0;
    for (const t of Object.values(host) as { values: Float32Array }[]) {
      for (const v of t.values) if (roundToFloat16(v) !== v) changed++;
    }
    expect(changed).toBe(0);
  });

  it(`stays within ${F16_TOLERANCE.relRms} relative RMS of float32 with f16 activations`, async () => {
    const run = (f16: boolean) =>
      tf.tidy(() => {
        const x = tf.tensor4d(fixture.x_t, fixture.x_t_shape);
        if (!f16) return unet.predict(x, fixture.timesteps, fixture.class_ids);
        roundTensorToFloat16(x);
        return withFloat16Storage(() => unet.predict(x, fixture.timesteps, fixture.class_ids));
      });
    const f32 = run(false);
    const f16 = run(true);
    const error = compareOutputs(await f32.data(), await f16.data());
    tf.dispose([f32, f16]);
    console.log(
      `[f16 ${id}] max |diff| ${error.maxAbs.toExponential(2)}, relative RMS ` +
        `${error.relRms.toExponential(2)}, non-finite ${error.nonFinite}`,
    );
    expect(error.nonFinite).toBe(0);
    expect(error.relRms).toBeGreaterThan(0); // the simulation did round something
    // The recorded numbers the worker plans with (src/engine/gpu/f16Checks.ts) still hold.
    const recorded = F16_CHECKS[id];
    expect(error.relRms / recorded.relRms).toBeCloseTo(1, 1);
    expect(error.maxAbs / recorded.maxAbs).toBeCloseTo(1, 1);
    const plan = planPrecision(true, error);
    expect(plan.storage).toBe('float16');
  });

  it('would refuse f16 where activations overflow it', async () => {
    const out = tf.tidy(() => {
      const x = tf.tensor4d(fixture.x_t, fixture.x_t_shape).mul(1e5) as tf.Tensor4D;
      return withFloat16Storage(() => x.mul(x).sum().reshape([1]));
    });
    const ref = tf.tidy(() => {
      const x = tf.tensor4d(fixture.x_t, fixture.x_t_shape).mul(1e5);
      return x.mul(x).sum().reshape([1]);
    });
    const error = compareOutputs(await ref.data(), await out.data());
    tf.dispose([out, ref]);
    expect(planPrecision(true, error).storage).toBe('float32');
  });
});
