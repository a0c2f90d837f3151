// RePaint's resampling (Lugmayr et al. 2022, "RePaint: Inpainting using Denoising Diffusion
// Probabilistic Models", section 4.2; diffusers' RePaintScheduler `jump_length` / `jump_n_sample`):
// after some steps the sample is noised forward again, q(x_t | x_t'), and the steps are taken
// once more, so that the model gets to harmonise what it generated with the known region. The
// pure parts live here: where whole solver steps start in a plan, which steps jump back, and the
// forward re-noising itself. DiffusionRun strings them together.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { convertSample, type SampleSpace } from '../replan';
import type { Scheduler } from '../schedulers/types';

/**
 * Plan positions where whole solver steps start, followed by the plan's length (its end). A jump
 * may only land on one of these: half-way through a Heun/DPM2 step the scheduler holds the
 * predictor's state, and a fresh scheduler there would not know it. Second-order schedulers
 * take `order` model calls per step (the last step one call fewer); PLMS (PNDM with
 * skip_prk_steps) takes two calls at the same timestep for its first step (positions 0 and 1).
 */
export function stepBoundaries(
  scheduler: Pick<Scheduler, 'className' | 'order' | 'timesteps' | 'config'>,
): number[] {
  const total = scheduler.timesteps.length;
  const starts: number[] = [];
  if (scheduler.className === 'PNDMScheduler') {
    if (scheduler.config.skip_prk_steps !== true) {
      // F-PNDM's Runge-Kutta warm-up (4 calls per step for 3 steps): no sampler preset uses it.
      throw new Error('Resampling needs PNDM with skip_prk_steps (the PLMS sampler)');
    }
    for (let i = 0; i < total; i++) if (i !== 1) starts.push(i);
  } else {
    for (let i = 0; i < total; i += scheduler.order) starts.push(i);
  }
  starts.push(total);
  return starts;
}

/**
 * RePaint's jump rule, as diffusers' RePaintScheduler.set_timesteps builds it: jumps are laid out
 * every `jumpLength` steps counted back from the plan's end (so the last step is always one), and
 * no jump goes back to the run's starting level or above it (RePaint never re-noises to pure noise).
 * `completed` is the index of the solver step just finished (step i runs from boundary i to i+1),
 * `stepCount` the number of solver steps in the plan, `firstStep` the step the run started at
 * (non-zero after img2img's skip or a re-plan). Returns the step to go back to, or null.
 *
 * With S solver steps from the start, j = jumpLength and r = resampleCount, the jumps come after
 * the steps k with (S - 1 - k) % j == 0 and k >= j: floor((S - 1) / j) jump points, each passed
 * r - 1 more times, each time re-doing j steps. For a plan of one model call per step that is
 * S + (r - 1) * j * floor((S - 1) / j) model calls (3S - 2 for r = 3, j = 1).
 */
export function jumpBackTo(
  completed: number,
  stepCount: number,
  firstStep: number,
  jumpLength: number,
): number | null {
  if ((stepCount - 1 - completed) % jumpLength !== 0) return null;
  const target = completed + 1 - jumpLength;
  return target > firstStep ? target : null;
}

/**
 * The forward process from noise level sigmaFrom up to sigmaTo (sigma = sqrt((1 - alphā)/alphā)),
 * q(x_to | x_from) = N(sqrt(alphā_to/alphā_from) x_from, (1 - alphā_to/alphā_from) I), on a sample
 * kept in `space`. Worked in the variance-preserving space; for the sigma-scaled one this is the
 * same as x + sqrt(sigmaTo² - sigmaFrom²) z.
 */
export function renoise(
  x: Tensor,
  space: SampleSpace,
  sigmaFrom: number,
  sigmaTo: number,
  noise: Tensor,
): Tensor {
  if (!(sigmaTo >= sigmaFrom)) {
    throw new Error(`Re-noising must go up in noise (sigma ${sigmaFrom} -> ${sigmaTo})`);
  }
  // alphā_to / alphā_from with alphā = 1 / (1 + sigma²).
  const ratio = (1 + sigmaFrom * sigmaFrom) / (1 + sigmaTo * sigmaTo);
  return tf.tidy(() => {
    const vp = convertSample(x, space, 'variance-preserving', sigmaFrom);
    const noised = vp.mul(Math.sqrt(ratio)).add(noise.mul(Math.sqrt(1 - ratio)));
    return convertSample(noised, 'variance-preserving', space, sigmaTo);
  });
}
