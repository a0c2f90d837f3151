// KDPM2DiscreteScheduler: DPM-Solver-2 (Lu et al. 2022) in Karras et al.'s sigma form, as
// k-diffusion's sample_dpm_2, ported from diffusers' scheduling_k_dpm_2_discrete.py. Each step
// evaluates the model at sigma_i and at the geometric midpoint sqrt(sigma_i * sigma_{i+1}), then
// steps the full interval with the midpoint derivative.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { f32, roundHalfEven } from '../schedule/numpy';
import {
  SigmaScheduler,
  convertSigmas,
  duplicateInterior,
  interpolateSigmas,
  logF32,
  logMidpoints,
  sigmaConversionOf,
  sigmaToTF32,
  spacedTimesteps,
  timestepsForSigmas,
  trainingSigmas,
  x0FromEpsilon,
  x0FromVPrediction,
  type SigmaConversionConfig,
  type SigmaSchedulerConfig,
} from './sigmaSchedule';
import type { StepResult } from './types';

export type KDPM2DiscreteConfig = SigmaSchedulerConfig & SigmaConversionConfig;

export const KDPM2_DISCRETE_DEFAULTS: KDPM2DiscreteConfig = {
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'linear',
  trained_betas: null,
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  prediction_type: 'epsilon',
  timestep_spacing: 'linspace',
  steps_offset: 0,
};

/** The plan both KDPM2 schedulers start from: spaced or converted sigmas with their timesteps. */
export function kdpm2BasePlan(
  config: KDPM2DiscreteConfig,
  alphasCumprod: Float32Array,
  numInferenceSteps: number,
  numTrainTimesteps: number,
): { timesteps: number[]; sigmas: Float32Array; logSigmas: Float32Array } {
  const conversion = sigmaConversionOf(config);
  let timesteps = spacedTimesteps(
    config.timestep_spacing,
    numTrainTimesteps,
    numInferenceSteps,
    config.steps_offset,
  );
  const trainSigmas = trainingSigmas(alphasCumprod);
  const logSigmas = logF32(trainSigmas);
  let sigmas = interpolateSigmas(timesteps, trainSigmas);
  if (conversion) {
    sigmas = convertSigmas(conversion, sigmas, numInferenceSteps);
    timesteps = timestepsForSigmas(sigmas, logSigmas);
    // diffusers rounds the Karras timesteps (only those) to integers here.
    if (conversion === 'karras') timesteps = timesteps.map(roundHalfEven);
  }
  return { timesteps, sigmas: Float32Array.from([...sigmas, 0]), logSigmas };
}

export class KDPM2DiscreteScheduler extends SigmaScheduler<KDPM2DiscreteConfig> {
  readonly order = 2;
  /** Midpoint sigmas, laid out like `sigmas` (diffusers' sigmas_interpol). */
  sigmasInterpol: Float32Array = new Float32Array(0);
  /** x_i, kept from the first half of a step for the second. */
  private firstOrderSample: Tensor | null = null;

  constructor(config?: Record<string, unknown>) {
    super('KDPM2DiscreteScheduler', KDPM2_DISCRETE_DEFAULTS, config, [
      'linear',
      'scaled_linear',
      'squaredcos_cap_v2',
    ]);
    sigmaConversionOf(this.config);
    const n = this.config.num_train_timesteps;
    this.setTimesteps(n, n);
  }

  get stateInFirstOrder(): boolean {
    return this.firstOrderSample === null;
  }

  setTimesteps(numInferenceSteps: number, numTrainTimesteps?: number): void {
    this.numInferenceSteps = numInferenceSteps;
    const numTrain = numTrainTimesteps || this.config.num_train_timesteps;
    const plan = kdpm2BasePlan(this.config, this.alphasCumprod, numInferenceSteps, numTrain);
    const { sigmas, logSigmas } = plan;

    // Midpoint between sigma_i and the previous sigma (roll(1): the first one pairs with the 0 at
    // the end, which torch's lerp turns into NaN; that entry is never used).
    const rolled = Float32Array.from(
      sigmas,
      (_, i) => sigmas[(i - 1 + sigmas.length) % sigmas.length],
    );
    const interpol = logMidpoints(sigmas, rolled);

    this.sigmas = duplicateInterior(sigmas);
    this.sigmasInterpol = duplicateInterior(interpol);

    // Timesteps: t0, then (midpoint t, t_i) pairs: t0, ti1, t1, ti2, t2, ...
    const timestepsInterpol = Array.from(interpol, (s) => sigmaToTF32(s, logSigmas));
    const timesteps = [plan.timesteps[0]];
    for (let i = 1; i < plan.timesteps.length; i++) {
      timesteps.push(timestepsInterpol[i], plan.timesteps[i]);
    }
    this.timesteps = Float32Array.from(timesteps);

    this.clearHistory();
    this.resetPosition();
  }

  protected override modelInputSigma(stepIndex: number): number {
    return this.stateInFirstOrder ? this.sigmas[stepIndex] : this.sigmasInterpol[stepIndex];
  }

  step(modelOutput: Tensor, timestep: number, sample: Tensor): StepResult {
    const i = this.ensureStepIndex(timestep);
    const firstOrder = this.stateInFirstOrder;
    const sigma = firstOrder ? this.sigmas[i] : this.sigmas[i - 1];
    const sigmaInterpol = firstOrder ? this.sigmasInterpol[i + 1] : this.sigmasInterpol[i];
    const sigmaNext = firstOrder ? this.sigmas[i + 1] : this.sigmas[i];
    const sigmaHat = sigma; // gamma = 0
    const sigmaInput = firstOrder ? sigmaHat : sigmaInterpol;

    const result = tf.tidy(() => {
      let predOriginalSample: Tensor;
      const type = this.config.prediction_type;
      if (type === 'epsilon') predOriginalSample = x0FromEpsilon(modelOutput, sample, sigmaInput);
      else if (type === 'v_prediction') {
        predOriginalSample = x0FromVPrediction(modelOutput, sample, sigmaInput);
      } else if (type === 'sample') {
        throw new Error('prediction_type not implemented yet: sample');
      } else {
        throw new Error(
          `prediction_type given as ${type} must be one of \`epsilon\`, or \`v_prediction\``,
        );
      }

      let prevSample: Tensor;
      if (firstOrder) {
        // Euler half-step from sigma_i to the midpoint sigma.
        const derivative = sample.sub(predOriginalSample).div(sigmaHat);
        this.firstOrderSample = tf.keep(sample.clone());
        prevSample = sample.add(derivative.mul(f32(sigmaInterpol - sigmaHat)));
      } else {
        // DPM-Solver-2: the whole step from x_i with the derivative at the midpoint.
        const derivative = sample.sub(predOriginalSample).div(sigmaInterpol);
        const start = this.firstOrderSample as Tensor;
        prevSample = start.add(derivative.mul(f32(sigmaNext - sigmaHat)));
      }
      return { prevSample, predOriginalSample };
    });
    if (!firstOrder) this.clearHistory();
    this.advance();
    return result;
  }

  protected override clearHistory(): void {
    this.firstOrderSample?.dispose();
    this.firstOrderSample = null;
  }
}
