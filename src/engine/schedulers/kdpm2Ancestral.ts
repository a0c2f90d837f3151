// KDPM2AncestralDiscreteScheduler: DPM-Solver-2 with ancestral sampling (k-diffusion's
// sample_dpm_2_ancestral), ported from diffusers' scheduling_k_dpm_2_ancestral_discrete.py. The
// deterministic part of each step ends at sigma_down (the midpoint lies between sigma_i and
// sigma_down); fresh noise of size sigma_up is added after the second half.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { f32 } from '../schedule/numpy';
import { ancestralSigmas } from './eulerAncestral';
import { KDPM2_DISCRETE_DEFAULTS, kdpm2BasePlan, type KDPM2DiscreteConfig } from './kdpm2';
import {
  SigmaScheduler,
  drawNoise,
  duplicateInterior,
  logMidpoints,
  sigmaConversionOf,
  sigmaToTF32,
  x0FromEpsilon,
  x0FromVPrediction,
} from './sigmaSchedule';
import type { StepOptions, StepResult } from './types';

export type KDPM2AncestralDiscreteConfig = KDPM2DiscreteConfig;

export class KDPM2AncestralDiscreteScheduler extends SigmaScheduler<KDPM2AncestralDiscreteConfig> {
  readonly order = 2;
  /** Midpoints between sigma_i and sigma_down_i, laid out like `sigmas`. */
  sigmasInterpol: Float32Array = new Float32Array(0);
  sigmasUp: Float32Array = new Float32Array(0);
  sigmasDown: Float32Array = new Float32Array(0);
  private firstOrderSample: Tensor | null = null;

  constructor(config?: Record<string, unknown>) {
    super('KDPM2AncestralDiscreteScheduler', KDPM2_DISCRETE_DEFAULTS, config, [
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
    const last = sigmas.length - 1;

    // Up/down split of every step sigma_i -> sigma_{i+1} (the last entry, 0 -> 0, is 0/0 = NaN in
    // diffusers too and never used).
    const up = new Float32Array(sigmas.length);
    const down = new Float32Array(sigmas.length);
    for (let i = 0; i <= last; i++) {
      const next = i < last ? sigmas[i + 1] : 0;
      ({ up: up[i], down: down[i] } = ancestralSigmas(sigmas[i], next));
    }
    down[last] = 0;
    const interpol = logMidpoints(sigmas, down);
    interpol[last - 1] = 0;
    interpol[last] = 0;

    this.sigmas = duplicateInterior(sigmas);
    this.sigmasInterpol = duplicateInterior(interpol);
    this.sigmasUp = duplicateInterior(up);
    this.sigmasDown = duplicateInterior(down);

    // Timesteps: t0, ti0, t1, ti1, ..., ti_{n-2}, t_{n-1}.
    const timestepsInterpol = Array.from(interpol, (s) => sigmaToTF32(s, logSigmas));
    const timesteps = [plan.timesteps[0]];
    for (let i = 1; i < plan.timesteps.length; i++) {
      timesteps.push(timestepsInterpol[i - 1], plan.timesteps[i]);
    }
    this.timesteps = Float32Array.from(timesteps);

    this.clearHistory();
    this.resetPosition();
  }

  protected override modelInputSigma(stepIndex: number): number {
    return this.stateInFirstOrder ? this.sigmas[stepIndex] : this.sigmasInterpol[stepIndex - 1];
  }

  step(
    modelOutput: Tensor,
    timestep: number,
    sample: Tensor,
    options: StepOptions = {},
  ): StepResult {
    const i = this.ensureStepIndex(timestep);
    const firstOrder = this.stateInFirstOrder;
    const sigma = firstOrder ? this.sigmas[i] : this.sigmas[i - 1];
    const sigmaInterpol = firstOrder ? this.sigmasInterpol[i] : this.sigmasInterpol[i - 1];
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
        // Euler half-step from sigma_i to the midpoint.
        const derivative = sample.sub(predOriginalSample).div(sigmaHat);
        this.firstOrderSample = tf.keep(sample.clone());
        prevSample = sample.add(derivative.mul(f32(sigmaInterpol - sigmaHat)));
      } else {
        // Full step from x_i to sigma_down with the midpoint derivative, then noise of size sigma_up.
        const derivative = sample.sub(predOriginalSample).div(sigmaInterpol);
        const start = this.firstOrderSample as Tensor;
        const deterministic = start.add(derivative.mul(f32(this.sigmasDown[i - 1] - sigmaHat)));
        const noise = drawNoise(modelOutput.shape, options);
        prevSample = deterministic.add(noise.mul(this.sigmasUp[i - 1]));
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
