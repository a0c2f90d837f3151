// HeunDiscreteScheduler: Heun's 2nd-order method (Algorithm 1 of Karras et al. 2022 without churn),
// ported from diffusers' scheduling_heun_discrete.py. Every step but the last takes two model calls,
// so the plan repeats each interior timestep: an Euler predictor at t, then a corrector at t_next
// that averages the two derivatives.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { f32 } from '../schedule/numpy';
import {
  SigmaScheduler,
  convertSigmas,
  duplicateInterior,
  interpolateSigmas,
  logF32,
  sigmaConversionOf,
  spacedTimesteps,
  timestepsForSigmas,
  trainingSigmas,
  x0FromEpsilon,
  x0FromVPrediction,
  type SigmaConversionConfig,
  type SigmaSchedulerConfig,
} from './sigmaSchedule';
import type { StepResult } from './types';

export type HeunDiscreteConfig = SigmaSchedulerConfig &
  SigmaConversionConfig & {
    clip_sample: boolean;
    clip_sample_range: number;
  };

export const HEUN_DISCRETE_DEFAULTS: HeunDiscreteConfig = {
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'linear',
  trained_betas: null,
  prediction_type: 'epsilon',
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  clip_sample: false,
  clip_sample_range: 1.0,
  timestep_spacing: 'linspace',
  steps_offset: 0,
};

export interface HeunPlanOptions {
  /** Overrides config.num_train_timesteps (diffusers' num_train_timesteps argument). */
  numTrainTimesteps?: number;
  /** Custom timesteps (one per solver step); then numInferenceSteps must be null. */
  timesteps?: ArrayLike<number>;
}

export class HeunDiscreteScheduler extends SigmaScheduler<HeunDiscreteConfig> {
  readonly order = 2;
  /** What the predictor half-step leaves for the corrector: d_i, dt and x_i. */
  private prevDerivative: Tensor | null = null;
  private dt: number | null = null;
  private firstOrderSample: Tensor | null = null;

  constructor(config?: Record<string, unknown>) {
    super('HeunDiscreteScheduler', HEUN_DISCRETE_DEFAULTS, config, [
      'linear',
      'scaled_linear',
      'squaredcos_cap_v2',
      'exp',
    ]);
    sigmaConversionOf(this.config);
    const n = this.config.num_train_timesteps;
    this.setTimesteps(n, { numTrainTimesteps: n });
  }

  /** True when the next step() is the predictor (Euler) half of a Heun step. */
  get stateInFirstOrder(): boolean {
    return this.dt === null;
  }

  setTimesteps(numInferenceSteps: number | null, options: HeunPlanOptions = {}): void {
    const cfg = this.config;
    const conversion = sigmaConversionOf(cfg);
    if (numInferenceSteps == null && !options.timesteps) {
      throw new Error('Must pass exactly one of `num_inference_steps` or `custom_timesteps`.');
    }
    if (numInferenceSteps != null && options.timesteps) {
      throw new Error('Can only pass one of `num_inference_steps` or `custom_timesteps`.');
    }
    if (options.timesteps && conversion) {
      throw new Error(`Cannot set \`timesteps\` with \`config.use_${conversion}_sigmas = True\`.`);
    }
    const n = numInferenceSteps || (options.timesteps as ArrayLike<number>).length;
    this.numInferenceSteps = n;
    const numTrain = options.numTrainTimesteps || cfg.num_train_timesteps;

    let timesteps = options.timesteps
      ? Array.from(options.timesteps, f32)
      : spacedTimesteps(cfg.timestep_spacing, numTrain, n, cfg.steps_offset);
    const trainSigmas = trainingSigmas(this.alphasCumprod);
    let sigmas = interpolateSigmas(timesteps, trainSigmas);
    if (conversion) {
      sigmas = convertSigmas(conversion, sigmas, n);
      timesteps = timestepsForSigmas(sigmas, logF32(trainSigmas));
    }

    // sigmas: s0, s1, s1, ..., s_{n-1}, s_{n-1}, 0; timesteps: t0, t1, t1, ..., t_{n-1}, t_{n-1}.
    const withFinal = Float32Array.from([...sigmas, 0]);
    this.sigmas = duplicateInterior(withFinal, withFinal.length - 1);
    // (the timesteps have no final entry to append, hence the slice)
    this.timesteps = duplicateInterior(timesteps).slice(0, 2 * timesteps.length - 1);
    this.clearHistory();
    this.resetPosition();
  }

  step(modelOutput: Tensor, timestep: number, sample: Tensor): StepResult {
    const i = this.ensureStepIndex(timestep);
    const firstOrder = this.stateInFirstOrder;
    const sigma = firstOrder ? this.sigmas[i] : this.sigmas[i - 1];
    const sigmaNext = firstOrder ? this.sigmas[i + 1] : this.sigmas[i];
    const sigmaHat = sigma; // gamma = 0: diffusers supports no churn here
    const sigmaInput = firstOrder ? sigmaHat : sigmaNext;

    const result = tf.tidy(() => {
      let predOriginalSample: Tensor;
      const type = this.config.prediction_type;
      if (type === 'epsilon') predOriginalSample = x0FromEpsilon(modelOutput, sample, sigmaInput);
      else if (type === 'v_prediction') {
        predOriginalSample = x0FromVPrediction(modelOutput, sample, sigmaInput);
      } else if (type === 'sample') predOriginalSample = modelOutput.clone();
      else {
        throw new Error(
          `prediction_type given as ${type} must be one of \`epsilon\`, or \`v_prediction\``,
        );
      }
      if (this.config.clip_sample) {
        const range = this.config.clip_sample_range;
        predOriginalSample = predOriginalSample.clipByValue(-range, range);
      }

      let prevSample: Tensor;
      if (firstOrder) {
        // Predictor: Euler step with d_i = (x - x_0) / sigma.
        const derivative = sample.sub(predOriginalSample).div(sigmaHat);
        const dt = f32(sigmaNext - sigmaHat);
        this.prevDerivative = tf.keep(derivative);
        this.firstOrderSample = tf.keep(sample.clone());
        this.dt = dt;
        prevSample = sample.add(derivative.mul(dt));
      } else {
        // Corrector: average d_i and d at the predicted point, restart from x_i.
        const current = sample.sub(predOriginalSample).div(sigmaNext);
        const derivative = (this.prevDerivative as Tensor).add(current).div(2);
        prevSample = (this.firstOrderSample as Tensor).add(derivative.mul(this.dt as number));
      }
      return { prevSample, predOriginalSample };
    });
    if (!firstOrder) this.clearHistory();
    this.advance();
    return result;
  }

  protected override clearHistory(): void {
    this.prevDerivative?.dispose();
    this.firstOrderSample?.dispose();
    this.prevDerivative = null;
    this.firstOrderSample = null;
    this.dt = null;
  }
}
