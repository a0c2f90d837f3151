// MultiDiffusion (Bar-Tal et al. 2023) as a denoiser: a model trained on h×w images predicts for
// a larger H×W canvas by running on overlapping h×w windows and averaging the windows' outputs per
// pixel. Every scheduler here steps affinely in the model output given the sample, and all
// windows share the canvas's x_t and noise, so one scheduler step on the averaged output equals
// MultiDiffusion's average of per-window steps: the run itself needs no change.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor4D } from '@tensorflow/tfjs-core';
import type { DenoiseModel } from '../denoiser';
import type { RunModel } from '../run/diffusionRun';
import { validateOutpaint, type OutpaintSettings } from './outpaintSettings';
import { coverageCounts, windowGrid, type WindowOrigin } from './windows';

/**
 * Most windows per model call: all windows of all images go in one batched call, split into
 * calls of at most this many (a 4×-wide canvas with guidance at batch 16 is 224 windows).
 */
export const MAX_WINDOW_BATCH = 64;

export class WindowedDenoiser implements DenoiseModel {
  readonly predictionType: DenoiseModel['predictionType'];
  readonly nullClass: number;
  readonly imageShape: readonly [number, number, number];
  readonly windows: readonly WindowOrigin[];
  /** 1 / (windows covering the pixel), row-major over the canvas. */
  private readonly weights: Float32Array;

  constructor(
    private readonly inner: DenoiseModel,
    canvas: { height: number; width: number },
    private readonly maxBatch = MAX_WINDOW_BATCH,
  ) {
    const [height, width, channels] = inner.imageShape;
    this.predictionType = inner.predictionType;
    this.nullClass = inner.nullClass;
    this.imageShape = [canvas.height, canvas.width, channels];
    this.windows = windowGrid(canvas, { height, width });
    this.weights = coverageCounts(canvas, { height, width }, this.windows).map((n) => 1 / n);
  }

  predict(x: Tensor4D, timesteps: number[], classes: number[]): Tensor4D {
    const [batch, canvasH, canvasW, channels] = x.shape;
    const [h, w] = this.inner.imageShape;
    const count = this.windows.length;
    return tf.tidy(() => {
      // Window-major: rows k*batch .. (k+1)*batch - 1 are window k of every image.
      const crops = tf.concat(
        this.windows.map(({ y, x: left }) => tf.slice(x, [0, y, left, 0], [batch, h, w, channels])),
      ) as Tensor4D;
      const times = this.windows.flatMap(() => timesteps);
      const labels = this.windows.flatMap(() => classes);
      const outputs: Tensor4D[] = [];
      for (let start = 0; start < count * batch; start += this.maxBatch) {
        const size = Math.min(this.maxBatch, count * batch - start);
        const chunk = tf.slice(crops, [start, 0, 0, 0], [size, h, w, channels]);
        outputs.push(
          this.inner.predict(
            chunk,
            times.slice(start, start + size),
            labels.slice(start, start + size),
          ),
        );
      }
      const all = outputs.length === 1 ? outputs[0] : tf.concat(outputs);
      const placed = this.windows.map(({ y, x: left }, k) =>
        tf.pad(tf.slice(all, [k * batch, 0, 0, 0], [batch, h, w, channels]), [
          [0, 0],
          [y, canvasH - h - y],
          [left, canvasW - w - left],
          [0, 0],
        ]),
      );
      const sum = placed.length === 1 ? placed[0] : tf.addN(placed);
      return tf.mul(sum, tf.tensor4d(this.weights, [1, canvasH, canvasW, 1])) as Tensor4D;
    });
  }
}

/** The run model for an outpainting run: the same model seen through windows on the canvas. */
export function windowedRunModel(model: RunModel, outpaint: OutpaintSettings): RunModel {
  const [height, width] = model.denoiser.imageShape;
  validateOutpaint(outpaint, { height, width }, null);
  return { ...model, denoiser: new WindowedDenoiser(model.denoiser, outpaint) };
}
