// The model as the sampler sees it, classifier-free guidance, and the views (x_0, noise) the UI
// shows at every step.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import type { PredictionType } from './schedulers/types';

/** A trained denoiser: NHWC images in [-1, 1] space, training timesteps, class ids. */
export interface DenoiseModel {
  readonly predictionType: Exclude<PredictionType, 'sample'>;
  /** The class id the model was trained to read as "no class" (for classifier-free guidance). */
  readonly nullClass: number;
  /** [height, width, channels] of one image. */
  readonly imageShape: readonly [number, number, number];
  predict(x: Tensor4D, timesteps: number[], classes: number[]): Tensor4D;
}

/**
 * Classifier-free guidance (Ho & Salimans 2022): out = uncond + w·(cond - uncond), both halves in
 * one batched model call. w = 1 is the plain conditional model and w = 0 the unconditional one;
 * those need no second half, so they cost one call.
 */
export function guidedModelOutput(
  model: DenoiseModel,
  x: Tensor4D,
  timestep: number,
  classes: number[],
  guidanceScale: number,
): Tensor4D {
  const batch = x.shape[0];
  const times = new Array<number>(batch).fill(timestep);
  if (guidanceScale === 1) return model.predict(x, times, classes);
  const nulls = new Array<number>(batch).fill(model.nullClass);
  if (guidanceScale === 0) return model.predict(x, times, nulls);
  return tf.tidy(() => {
    const both = model.predict(tf.concat([x, x]), [...times, ...times], [...classes, ...nulls]);
    const [cond, uncond] = tf.split(both, 2);
    return uncond.add(cond.sub(uncond).mul(guidanceScale)) as Tensor4D;
  });
}

/**
 * x_0 and eps implied by a model output at a variance-preserving input x = alpha·x_0 + sigma·eps
 * (alpha² + sigma² = 1). v = alpha·eps - sigma·x_0 (Salimans & Ho 2022).
 */
export function impliedViews(
  predictionType: DenoiseModel['predictionType'],
  output: Tensor,
  xVp: Tensor,
  alpha: number,
  sigma: number,
): { predictedX0: Tensor; predictedNoise: Tensor } {
  return tf.tidy(() => {
    if (predictionType === 'epsilon') {
      return { predictedX0: xVp.sub(output.mul(sigma)).div(alpha), predictedNoise: output.clone() };
    }
    return {
      predictedX0: xVp.mul(alpha).sub(output.mul(sigma)),
      predictedNoise: xVp.mul(sigma).add(output.mul(alpha)),
    };
  });
}
