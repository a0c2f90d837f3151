// Langevin dynamics with the model's score (Song et al. 2021, "Score-Based Generative Modeling
// through Stochastic Differential Equations", Algorithms 4-5): the noise prediction is a score,
// s(x_t) = -eps / sigma_t, and a Langevin step x <- x + e·s + sqrt(2e)·z moves x_t towards where
// the model believes p_t is dense without changing its noise level. The step size e comes from a
// target signal-to-noise ratio r: e = 2·a·(r·|z| / |s|)², with a = 1 - beta_t on the VP schedule
// (a = 1 for sigma-space samples). Norms are taken per image (Song et al. average them over the
// batch), so an image's result does not depend on the batch it ran in.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

export { DEFAULT_LANGEVIN_SNR, MAX_LANGEVIN_STEPS } from './run/settings';

/** One Langevin step for a batch: x + e·score + sqrt(2e)·noise with e per image from the SNR. */
export function langevinStep(
  x: Tensor,
  score: Tensor,
  noise: Tensor,
  snr: number,
  alpha = 1,
): Tensor {
  return tf.tidy(() => {
    const batch = x.shape[0];
    const flat = (t: Tensor) => tf.reshape(t, [batch, -1]);
    const scoreNorm = tf.norm(flat(score), 'euclidean', 1);
    const noiseNorm = tf.norm(flat(noise), 'euclidean', 1);
    // e = 2a (r |z| / |s|)²; a zero score (a perfect fit) would divide by zero: take no step.
    const ratio = tf.div(tf.mul(noiseNorm, snr), tf.maximum(scoreNorm, 1e-12));
    const stepSize = tf.mul(tf.square(ratio), 2 * alpha);
    const perImage = [batch, ...x.shape.slice(1).map(() => 1)];
    return langevinStepOfSize(x, score, noise, tf.reshape(stepSize, perImage));
  });
}

/** x + e·score + sqrt(2e)·noise for a given step size e (a number, or a tensor per image). */
export function langevinStepOfSize(
  x: Tensor,
  score: Tensor,
  noise: Tensor,
  e: number | Tensor,
): Tensor {
  return tf.tidy(() => {
    const root = typeof e === 'number' ? Math.sqrt(2 * e) : tf.sqrt(tf.mul(e, 2));
    return tf.add(tf.add(x, tf.mul(score, e)), tf.mul(noise, root));
  });
}
