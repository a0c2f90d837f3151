// The toy model's noise schedule as plain numbers (no tfjs): alphā per training timestep, the
// forward process q(x_t | x_0), and what the ELBO would weight each timestep by.
import { makeNoiseTables, type NoiseScheduleConfig } from '../schedule/betas';
import { Xoshiro128, gaussianArray } from '../gaussian';
import type { Points } from './datasets';
import { toyScheduleConfig, type ToyModelConfig, type ToyPrediction } from './toyConfig';

export interface ToyTables {
  betas: Float32Array;
  alphasCumprod: Float32Array;
}

export function toyTables(config: ToyModelConfig): ToyTables {
  const { betas, alphasCumprod } = makeNoiseTables(
    toyScheduleConfig(config) as unknown as NoiseScheduleConfig,
  );
  return { betas, alphasCumprod };
}

/** alphā at a fractional timestep, linear between the table's entries. */
export function alphaBarAt(alphasCumprod: ArrayLike<number>, t: number): number {
  const last = alphasCumprod.length - 1;
  const clamped = Math.min(Math.max(t, 0), last);
  const lo = Math.floor(clamped);
  const hi = Math.min(lo + 1, last);
  const w = clamped - lo;
  return alphasCumprod[lo] * (1 - w) + alphasCumprod[hi] * w;
}

/** x_t = sqrt(alphā) x_0 + sqrt(1 - alphā) eps, with eps from the seed. */
export function forwardNoise(points: Points, alphaBar: number, seed: number): Points {
  const noise = gaussianArray(new Xoshiro128(seed), points.length);
  const a = Math.sqrt(alphaBar);
  const s = Math.sqrt(1 - alphaBar);
  return points.map((x, i) => a * x + s * noise[i]);
}

/**
 * The ELBO's weight on the squared error of the chosen target at each timestep, relative to the
 * plain mean squared error the trainer minimises (Ho et al. 2020, eq. 12 with sigma_t^2 = beta_t):
 * lambda_t = beta_t / (2 alpha_t (1 - alphā_t)) for epsilon, times SNR_t = alphā / (1 - alphā) for
 * x_0 and times alphā for v (the errors convert as eps = sqrt(SNR) x_0-error, sqrt(alphā) v-error).
 */
export function elboWeights(tables: ToyTables, prediction: ToyPrediction): Float64Array {
  const { betas, alphasCumprod } = tables;
  return Float64Array.from(betas, (beta, t) => {
    const ab = alphasCumprod[t];
    const lambda = beta / (2 * (1 - beta) * (1 - ab));
    if (prediction === 'sample') return (lambda * ab) / (1 - ab);
    if (prediction === 'v_prediction') return lambda * ab;
    return lambda;
  });
}

/** Which of `buckets` equal ranges a training timestep falls in. */
export function bucketOf(t: number, numTrainTimesteps: number, buckets: number): number {
  return Math.min(buckets - 1, Math.floor((t * buckets) / numTrainTimesteps));
}
