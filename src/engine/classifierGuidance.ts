// Classifier guidance (Dhariwal & Nichol 2021, "Diffusion Models Beat GANs on Image Synthesis"):
// the gradient of a noisy-image classifier's log p(y | x_t) steers the model's noise prediction,
// eps' = eps - s · sqrt(1 - alphā_t) · grad_x log p(y | x_t). A sigma-space sampler sees the same
// correction: its model input is the variance-preserving x_t, and its score -eps / sigma is shifted
// by exactly s · grad log p (the score of p(x_t) p(y | x_t)^s).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Tensor2D, Tensor4D } from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients by itself: tf.grad through the classifier needs them.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { DenoiseModel } from './denoiser';
import {
  makeNoiseTables,
  sigmasFromAlphasCumprod,
  type NoiseScheduleConfig,
} from './schedule/betas';
import { sigmaToT } from './schedule/sigmas';

/** A classifier of noisy images x_t (variance-preserving, pixels in [-1, 1] at t = 0). */
export interface NoisyImageClassifier {
  readonly numClasses: number;
  logits(x: Tensor4D, timesteps: number | number[]): Tensor2D;
  dispose?(): void;
}

/**
 * A classifier and the schedule it was trained on. It is asked at the noise level of the run's
 * sample, converted to its own (fractional) timestep, so a model trained on another schedule
 * (e.g. linear betas) is guided by a classifier trained on the cosine one.
 */
export class ClassifierGuide {
  private readonly logSigmas: Float64Array;

  constructor(
    readonly classifier: NoisyImageClassifier,
    scheduleConfig: NoiseScheduleConfig,
  ) {
    const sigmas = sigmasFromAlphasCumprod(makeNoiseTables(scheduleConfig).alphasCumprod);
    this.logSigmas = sigmas.map((s) => Math.log(s));
  }

  /** The classifier's training timestep whose noise level is sigma = sqrt((1 - alphā) / alphā). */
  timestepFor(sigma: number): number {
    return sigmaToT(sigma, this.logSigmas);
  }

  /**
   * grad_x log softmax(logits(x))[y] per image, for variance-preserving x at noise level sigma.
   * Images whose class is not one of the classifier's (the null class) get a zero gradient.
   */
  gradient(x: Tensor4D, sigma: number, classes: number[]): Tensor4D {
    const n = x.shape[0];
    if (classes.length !== n) {
      throw new Error(`Classifier guidance got ${classes.length} classes for ${n} images`);
    }
    const k = this.classifier.numClasses;
    const picks = classes.map((c) => (Number.isInteger(c) && c >= 0 && c < k ? c : -1));
    const t = this.timestepFor(sigma);
    return tf.tidy(() => {
      // One-hot rows of zeros for the null class: its log-probability term drops out.
      const oneHot = tf.oneHot(tf.tensor1d(picks, 'int32'), k).toFloat();
      const logProb = (z: Tensor) =>
        tf.sum(tf.mul(tf.logSoftmax(this.classifier.logits(z as Tensor4D, t)), oneHot));
      return tf.grad(logProb)(x) as Tensor4D;
    });
  }
}

/**
 * The model output with classifier guidance of strength `scale` added, for a variance-preserving
 * input x at noise level sigma (alpha = 1 / sqrt(1 + sigma²), sigma_vp = sigma · alpha). The
 * correction is made on epsilon; a v-prediction is converted there and back
 * (v = (eps - sigma_vp · x) / alpha for alpha² + sigma_vp² = 1).
 */
export function withClassifierGuidance(
  predictionType: DenoiseModel['predictionType'],
  output: Tensor4D,
  x: Tensor4D,
  sigma: number,
  gradient: Tensor4D,
  scale: number,
): Tensor4D {
  const alpha = 1 / Math.sqrt(1 + sigma * sigma);
  const sigmaVp = sigma * alpha;
  return tf.tidy(() => {
    const shift = tf.mul(gradient, scale * sigmaVp);
    if (predictionType === 'epsilon') return tf.sub(output, shift) as Tensor4D;
    // eps implied by v at x: eps = alpha · v + sigma_vp · x.
    const eps = tf.add(tf.mul(output, alpha), tf.mul(x, sigmaVp));
    const guided = tf.sub(eps, shift);
    return tf.div(tf.sub(guided, tf.mul(x, sigmaVp)), alpha) as Tensor4D;
  });
}
