// Annealed Langevin dynamics (Song & Ermon 2019, "Generative Modeling by Estimating Gradients of
// the Data Distribution"; the corrector-only sampler of Song et al. 2021): for each noise level
// sigma_1 > ... > sigma_n, `steps_per_level` Langevin steps with the model's score
// s = -eps / sigma and Song & Ermon's step size, proportional to sigma_i², then one final
// denoising step x_0 = x + sigma_n² s (Tweedie's formula, as NCSNv2 ends). The constant is given
// as a signal-to-noise ratio r, e_i = 2·r²·sigma_i²: the step Song et al.'s SNR rule takes at the
// level's own typical set (|s| ~ |z| / sigma). Unlike that rule it does not shrink when a sample is
// still far from the level, so each step removes a fixed share (2r²) of the excess noise.
// Not a diffusers scheduler: it is ours, built on EulerDiscreteScheduler (sigma-space samples,
// scaleModelInput, addNoise) so it plugs into the same runs, plots and re-planning.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { langevinStepOfSize } from '../langevin';
import { MAX_LANGEVIN_STEPS } from '../run/settings';
import { exponentialSigmas, karrasSigmas } from '../schedule/sigmas';
import { EulerDiscreteScheduler } from './euler';
import { drawNoise, trainingSigmas, x0FromEpsilon, x0FromVPrediction } from './sigmaSchedule';
import type { StepOptions, StepResult } from './types';

/**
 * The highest level of the ladder. Song & Ermon pick sigma_1 near the largest distance between
 * training images (about 56 for 28×28 images in [-1, 1]); the cosine schedule's t = 999 sits at
 * sigma ~ 2e4, from which Langevin steps sized by an SNR cannot come down in a few hundred steps.
 * 80 is EDM's sigma_max (Karras et al. 2022).
 */
export const ANNEALED_SIGMA_MAX = 80;
/** The lowest level: NCSN's sigma_L = 0.01 (or the schedule's own minimum, if higher). */
export const ANNEALED_SIGMA_MIN = 0.01;

export const ANNEALED_LANGEVIN_DEFAULTS = { steps_per_level: 3, snr: 0.5 };

export class AnnealedLangevinScheduler extends EulerDiscreteScheduler {
  /** Langevin steps at each noise level. */
  readonly stepsPerLevel: number;
  /** Target signal-to-noise ratio of each step (sets the step size). */
  readonly snr: number;

  constructor(config: Record<string, unknown> = {}) {
    const { steps_per_level: perLevel, snr, ...eulerConfig } = config;
    super(eulerConfig, 'AnnealedLangevinScheduler');
    this.stepsPerLevel = Number(perLevel ?? ANNEALED_LANGEVIN_DEFAULTS.steps_per_level);
    this.snr = Number(snr ?? ANNEALED_LANGEVIN_DEFAULTS.snr);
    if (
      !Number.isInteger(this.stepsPerLevel) ||
      this.stepsPerLevel < 1 ||
      this.stepsPerLevel > MAX_LANGEVIN_STEPS
    ) {
      throw new Error(
        `steps_per_level must be 1 to ${MAX_LANGEVIN_STEPS} (got ${String(perLevel)})`,
      );
    }
    if (!(this.snr > 0 && this.snr <= 1)) {
      throw new Error(`snr must be above 0 and at most 1 (got ${String(snr)})`);
    }
    const own = this.config as Record<string, unknown>;
    own.steps_per_level = this.stepsPerLevel;
    own.snr = this.snr;
  }

  /**
   * `numInferenceSteps` noise levels, geometric as in Song & Ermon (or Karras' ladder when
   * use_karras_sigmas is set) between the schedule's range clipped to [0.01, 80], each repeated
   * steps_per_level times, then the final denoising call at the last level: n·m + 1 model calls.
   */
  override setTimesteps(numInferenceSteps: number | null): void {
    const n = Math.max(1, numInferenceSteps ?? 1);
    const train = trainingSigmas(this.alphasCumprod);
    const hi = Math.min(train[train.length - 1], ANNEALED_SIGMA_MAX);
    const lo = Math.min(Math.max(train[0], ANNEALED_SIGMA_MIN), hi);
    const ladder =
      n === 1
        ? [hi]
        : this.config.use_karras_sigmas
          ? karrasSigmas(lo, hi, n)
          : exponentialSigmas(lo, hi, n);
    super.setTimesteps(null, { sigmas: [...ladder, 0] });
    const m = this.stepsPerLevel;
    const timesteps: number[] = [];
    const sigmas: number[] = [];
    for (let k = 0; k < n; k++) {
      for (let j = 0; j < m; j++) {
        timesteps.push(this.timesteps[k]);
        sigmas.push(this.sigmas[k]);
      }
    }
    timesteps.push(this.timesteps[n - 1]);
    sigmas.push(this.sigmas[n - 1], 0);
    this.timesteps = Float32Array.from(timesteps);
    this.sigmas = Float32Array.from(sigmas);
  }

  override step(
    modelOutput: Tensor,
    timestep: number,
    sample: Tensor,
    options: StepOptions = {},
  ): StepResult {
    const i = this.ensureStepIndex(timestep);
    const sigma = this.sigmas[i];
    const last = i === this.timesteps.length - 1;
    const result = tf.tidy(() => {
      const type = this.config.prediction_type;
      let x0: Tensor;
      if (type === 'epsilon') x0 = x0FromEpsilon(modelOutput, sample, sigma);
      else if (type === 'v_prediction') x0 = x0FromVPrediction(modelOutput, sample, sigma);
      else throw new Error(`AnnealedLangevinScheduler needs epsilon or v_prediction, not ${type}`);
      // Tweedie: E[x_0 | x] = x + sigma² · score, which is the model's own x_0 estimate.
      if (last) return { prevSample: x0.clone(), predOriginalSample: x0 };
      const score = tf.div(tf.sub(x0, sample), sigma * sigma);
      const noise = drawNoise(sample.shape, options);
      const stepSize = 2 * this.snr * this.snr * sigma * sigma;
      return {
        prevSample: langevinStepOfSize(sample, score, noise, stepSize),
        predOriginalSample: x0,
      };
    });
    this.advance();
    return result;
  }
}
