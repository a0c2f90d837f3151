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
import { WindowLayout } from './windowBlend';
import { windowedClassifierSlot } from './windowedClassifier';
import type { WindowOrigin } from './windows';

/**
 * Most windows per model call: all windows of all images go in one batched call, split into
 * calls of at most this many (a 4×-wide canvas with guidance at batch 16 is 224 windows).
 */
export const MAX_WINDOW_BATCH = 64;

export class WindowedDenoiser implements DenoiseModel {
  readonly predictionType: DenoiseModel['predictionType'];
  readonly nullClass: number;
  readonly imageShape: readonly [number, number, number];
  readonly layout: WindowLayout;

  constructor(
    private readonly inner: DenoiseModel,
    canvas: { height: number; width: number },
    private readonly maxBatch = MAX_WINDOW_BATCH,
  ) {
    const [height, width, channels] = inner.imageShape;
    this.predictionType = inner.predictionType;
    this.nullClass = inner.nullClass;
    this.imageShape = [canvas.height, canvas.width, channels];
    this.layout = new WindowLayout(canvas, { height, width });
  }

  get windows(): readonly WindowOrigin[] {
    return this.layout.windows;
  }

  predict(x: Tensor4D, timesteps: number[], classes: number[]): Tensor4D {
    return tf.tidy(() => {
      const crops = this.layout.crop(x);
      const times = this.layout.repeat(timesteps);
      const labels = this.layout.repeat(classes);
      const total = crops.shape[0];
      const outputs: Tensor4D[] = [];
      for (let start = 0; start < total; start += this.maxBatch) {
        const size = Math.min(this.maxBatch, total - start);
        const [, h, w, c] = crops.shape;
        const chunk = tf.slice(crops, [start, 0, 0, 0], [size, h, w, c]);
        const end = start + size;
        outputs.push(this.inner.predict(chunk, times.slice(start, end), labels.slice(start, end)));
      }
      return this.layout.blend(outputs.length === 1 ? outputs[0] : tf.concat(outputs));
    });
  }
}

/**
 * The run model for an outpainting run: the same model seen through windows on the canvas, and
 * its noisy-image classifier (classifier guidance) through the same windows.
 */
export function windowedRunModel(model: RunModel, outpaint: OutpaintSettings): RunModel {
  const [height, width] = model.denoiser.imageShape;
  validateOutpaint(outpaint, { height, width }, null);
  const denoiser = new WindowedDenoiser(model.denoiser, outpaint);
  const classifier = model.classifier && windowedClassifierSlot(model.classifier, denoiser.layout);
  return { ...model, denoiser, classifier };
}
