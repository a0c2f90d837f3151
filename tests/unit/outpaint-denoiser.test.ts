// The windowed (MultiDiffusion) denoiser: at the model's own size it is the model; on a larger
// canvas each pixel's output is the average of the outputs of exactly the windows over it; the
// batched, chunked model calls route every window's timestep and class; no tensors leak.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// The Gaussian test denoiser calls ops chained on tensors.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import type { Tensor4D } from '@tensorflow/tfjs-core';
import type { DenoiseModel } from '../../src/engine/denoiser';
import { WindowedDenoiser } from '../../src/engine/outpaint/windowedDenoiser';
import { GaussianDenoiser } from './gaussianDenoiser';

/**
 * A denoiser whose output over a whole window is one number that depends on everything the window
 * holds: the window's mean, its class and timestep. Averaging windows then shows up per pixel.
 */
class WindowSummary implements DenoiseModel {
  readonly predictionType = 'epsilon' as const;
  readonly nullClass = 10;
  readonly imageShape = [4, 4, 1] as const;
  readonly batches: number[] = [];

  predict(x: Tensor4D, timesteps: number[], classes: number[]): Tensor4D {
    this.batches.push(x.shape[0]);
    return tf.tidy(() => {
      const mean = x.mean([1, 2, 3], true);
      const label = tf.tensor4d(
        classes.map((c, i) => 10 * c + timesteps[i] / 1000),
        [classes.length, 1, 1, 1],
      );
      return mean.add(label).tile([1, 4, 4, 1]) as Tensor4D;
    });
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Canvas values 0, 1, 2, ... row-major, one channel, `batch` images offset by 100 each. */
function ramp(batch: number, height: number, width: number): Tensor4D {
  const values = Float32Array.from({ length: batch * height * width }, (_, i) => {
    const image = Math.floor(i / (height * width));
    return (i % (height * width)) + 100 * image;
  });
  return tf.tensor4d(values, [batch, height, width, 1]);
}

describe('WindowedDenoiser', () => {
  it('is the plain model when the canvas is the model size', () => {
    const inner = new GaussianDenoiser();
    const windowed = new WindowedDenoiser(inner, { height: 8, width: 8 });
    expect(windowed.windows).toEqual([{ y: 0, x: 0 }]);
    const x = tf.randomNormal([3, 8, 8, 1], 0, 1, 'float32', 7) as Tensor4D;
    const plain = inner.predict(x, [500, 500, 500], [1, 2, 10]);
    const through = windowed.predict(x, [500, 500, 500], [1, 2, 10]);
    expect(Array.from(through.dataSync())).toEqual(Array.from(plain.dataSync()));
    tf.dispose([x, plain, through]);
  });

  it('gives each pixel the average of the windows over it', () => {
    const inner = new WindowSummary();
    // 8 wide, 6 tall: windows at x 0, 2, 4 and y 0, 2 (stride 2), so up to 6 over a pixel.
    const windowed = new WindowedDenoiser(inner, { height: 6, width: 8 });
    expect(windowed.imageShape).toEqual([6, 8, 1]);
    const x = ramp(2, 6, 8);
    const classes = [3, 7];
    const out = windowed.predict(x, [250, 250], classes);
    expect(out.shape).toEqual([2, 6, 8, 1]);
    const got = out.dataSync();
    const pixels = x.dataSync();
    for (let b = 0; b < 2; b++) {
      for (let py = 0; py < 6; py++) {
        for (let px = 0; px < 8; px++) {
          const over = windowed.windows.filter(
            ({ y, x: left }) => py >= y && py < y + 4 && px >= left && px < left + 4,
          );
          const summaries = over.map(({ y, x: left }) => {
            let sum = 0;
            for (let r = y; r < y + 4; r++) {
              for (let c = left; c < left + 4; c++) sum += pixels[(b * 6 + r) * 8 + c];
            }
            return sum / 16 + 10 * classes[b] + 0.25;
          });
          const expected = summaries.reduce((a, v) => a + v, 0) / summaries.length;
          expect(got[(b * 6 + py) * 8 + px]).toBeCloseTo(expected, 3);
        }
      }
    }
    // All 6 windows of both images went to the model in one call.
    expect(inner.batches).toEqual([12]);
    tf.dispose([x, out]);
  });

  it('splits large window batches into calls of at most maxBatch, with the same result', () => {
    const x = ramp(3, 6, 8);
    const times = [10, 20, 30];
    const classes = [0, 1, 2];
    const whole = new WindowedDenoiser(new WindowSummary(), { height: 6, width: 8 });
    const innerSplit = new WindowSummary();
    const split = new WindowedDenoiser(innerSplit, { height: 6, width: 8 }, 5);
    const a = whole.predict(x, times, classes);
    const b = split.predict(x, times, classes);
    expect(innerSplit.batches).toEqual([5, 5, 5, 3]);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
  });

  it('keeps a pixel-wise model pixel-wise: overlapping windows agree, weights sum to 1', () => {
    const inner = new GaussianDenoiser();
    const windowed = new WindowedDenoiser(inner, { height: 16, width: 24 });
    const x = tf.randomNormal([2, 16, 24, 1], 0, 1, 'float32', 3) as Tensor4D;
    const direct = tf.tidy(() =>
      tf.concat(
        [0, 8, 16].map((left) =>
          tf.concat(
            [0, 8].map((top) =>
              inner.predict(tf.slice(x, [0, top, left, 0], [2, 8, 8, 1]), [300, 300], [4, 4]),
            ),
            1,
          ),
        ),
        2,
      ),
    );
    const through = windowed.predict(x, [300, 300], [4, 4]);
    const diff = tf.tidy(() => through.sub(direct).abs().max().dataSync()[0]);
    expect(diff).toBeLessThan(1e-5);
    tf.dispose([x, direct, through]);
  });

  it('leaves no tensors behind', () => {
    const windowed = new WindowedDenoiser(new WindowSummary(), { height: 8, width: 8 }, 3);
    const x = ramp(2, 8, 8);
    const before = tf.memory().numTensors;
    tf.dispose(windowed.predict(x, [1, 1], [0, 0]));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
