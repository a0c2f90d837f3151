// Switching sampler, schedule or step count in the middle of a run, from the current noise level
// (as diffusers' img2img starts part-way with a begin index), without restarting.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { makeNoiseTables, type NoiseScheduleConfig } from './schedule/betas';
import { interp } from './schedule/numpy';
import type { Scheduler } from './schedulers/types';

/**
 * The k-diffusion family keeps x = x_0 + sigma·eps ("sigma-scaled", initNoiseSigma ~ sigma_max
 * and scaleModelInput divides by sqrt(sigma² + 1)); the others keep the variance-preserving
 * x = alpha·x_0 + sigma_vp·eps. A switch between families must rescale the running sample.
 */
export type SampleSpace = 'variance-preserving' | 'sigma-scaled';

const SIGMA_SCALED = new Set([
  'EulerDiscreteScheduler',
  'EulerAncestralDiscreteScheduler',
  'HeunDiscreteScheduler',
  'KDPM2DiscreteScheduler',
  'KDPM2AncestralDiscreteScheduler',
  'LMSDiscreteScheduler',
  'AnnealedLangevinScheduler',
]);

export function sampleSpaceOf(scheduler: Pick<Scheduler, 'className'>): SampleSpace {
  return SIGMA_SCALED.has(scheduler.className) ? 'sigma-scaled' : 'variance-preserving';
}

/** sigma = sqrt((1 - alphā)/alphā) at a (possibly fractional) training timestep, as Euler interpolates. */
export function sigmaAtTimestep(config: NoiseScheduleConfig, timestep: number): number {
  const { alphasCumprod } = makeNoiseTables(config);
  const sigmas = Array.from(alphasCumprod, (a) => Math.sqrt((1 - a) / a));
  const positions = sigmas.map((_, i) => i);
  return interp(timestep, positions, sigmas);
}

/** Rescales a sample between the two spaces at noise level sigma: x_sigma = x_vp · sqrt(1 + sigma²). */
export function convertSample(
  x: Tensor,
  from: SampleSpace,
  to: SampleSpace,
  sigma: number,
): Tensor {
  if (from === to) return x.clone();
  const factor = Math.sqrt(1 + sigma * sigma);
  return tf.tidy(() => (to === 'sigma-scaled' ? x.mul(factor) : x.div(factor)));
}

/**
 * Where a freshly planned scheduler should begin so that it continues from `timestep` (the noise
 * level of the current sample): the first solver step whose timestep is at or below it. Returns
 * a multiple of the scheduler's order (second-order solvers start on a whole step), or the
 * number of timesteps when nothing is left to do.
 */
export function beginIndexAtOrBelow(scheduler: Scheduler, timestep: number): number {
  const ts = scheduler.timesteps;
  for (let i = 0; i < ts.length; i += scheduler.order) {
    if (ts[i] <= timestep + 1e-4) return i;
  }
  return ts.length;
}
