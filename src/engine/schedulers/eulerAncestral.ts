// EulerAncestralDiscreteScheduler: Euler steps with ancestral sampling (k-diffusion's
// sample_euler_ancestral), ported from diffusers' scheduling_euler_ancestral_discrete.py. Each step
// goes down to sigma_down deterministically and adds fresh noise of size sigma_up, so that
// sigma_down² + sigma_up² = sigma_next².
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { f32 } from '../schedule/numpy';
import {
  SigmaScheduler,
  drawNoise,
  interpolateSigmas,
  spacedTimesteps,
  trainingSigmas,
  x0FromEpsilon,
  x0FromVPrediction,
  type SigmaSchedulerConfig,
} from './sigmaSchedule';
import type { StepOptions, StepResult } from './types';

export type EulerAncestralDiscreteConfig = SigmaSchedulerConfig & {
  rescale_betas_zero_snr: boolean;
};

export const EULER_ANCESTRAL_DISCRETE_DEFAULTS: EulerAncestralDiscreteConfig = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  prediction_type: 'epsilon',
  timestep_spacing: 'linspace',
  steps_offset: 0,
  rescale_betas_zero_snr: false,
};

/**
 * sigma_up and sigma_down of an ancestral step from sigmaFrom to sigmaTo, in float32 like
 * diffusers. to² - up² is exactly to⁴ / from², but in float32 it cancels to 0 when from >> to (the
 * cosine schedule's sigma_max is ~2e4 at t = 999): diffusers then takes log(0) for KDPM2's
 * midpoint and plans a NaN timestep. There, and only there, the closed form to² / from is used.
 */
export function ancestralSigmas(sigmaFrom: number, sigmaTo: number): { up: number; down: number } {
  const toSq = f32(sigmaTo * sigmaTo);
  const fromSq = f32(sigmaFrom * sigmaFrom);
  const up = f32(Math.sqrt(f32(f32(toSq * f32(fromSq - toSq)) / fromSq)));
  const downSq = f32(toSq - f32(up * up));
  const down = downSq > 0 ? f32(Math.sqrt(downSq)) : f32(toSq / sigmaFrom);
  return { up, down };
}

export class EulerAncestralDiscreteScheduler extends SigmaScheduler<EulerAncestralDiscreteConfig> {
  readonly order = 1;

  constructor(config?: Record<string, unknown>) {
    super('EulerAncestralDiscreteScheduler', EULER_ANCESTRAL_DISCRETE_DEFAULTS, config, [
      'linear',
      'scaled_linear',
      'squaredcos_cap_v2',
    ]);
    const sigmas = Array.from(trainingSigmas(this.alphasCumprod)).reverse();
    const n = this.config.num_train_timesteps;
    this.sigmas = Float32Array.from([...sigmas, 0]);
    this.timesteps = Float32Array.from({ length: n }, (_, i) => n - 1 - i);
  }

  setTimesteps(numInferenceSteps: number): void {
    const cfg = this.config;
    this.numInferenceSteps = numInferenceSteps;
    const timesteps = spacedTimesteps(
      cfg.timestep_spacing,
      cfg.num_train_timesteps,
      numInferenceSteps,
      cfg.steps_offset,
    );
    const sigmas = interpolateSigmas(timesteps, trainingSigmas(this.alphasCumprod));
    this.sigmas = Float32Array.from([...sigmas, 0]);
    this.timesteps = Float32Array.from(timesteps);
    this.resetPosition();
  }

  step(
    modelOutput: Tensor,
    timestep: number,
    sample: Tensor,
    options: StepOptions = {},
  ): StepResult {
    const i = this.ensureStepIndex(timestep);
    const sigma = this.sigmas[i];
    const { up: sigmaUp, down: sigmaDown } = ancestralSigmas(sigma, this.sigmas[i + 1]);
    const dt = f32(sigmaDown - sigma);

    const result = tf.tidy(() => {
      let predOriginalSample: Tensor;
      const type = this.config.prediction_type;
      if (type === 'epsilon') predOriginalSample = x0FromEpsilon(modelOutput, sample, sigma);
      else if (type === 'v_prediction') {
        predOriginalSample = x0FromVPrediction(modelOutput, sample, sigma);
      } else if (type === 'sample') {
        throw new Error('prediction_type not implemented yet: sample');
      } else {
        throw new Error(
          `prediction_type given as ${type} must be one of \`epsilon\`, or \`v_prediction\``,
        );
      }
      const derivative = sample.sub(predOriginalSample).div(sigma);
      const deterministic = sample.add(derivative.mul(dt));
      const noise = drawNoise(modelOutput.shape, options);
      const prevSample = deterministic.add(noise.mul(sigmaUp));
      return { prevSample, predOriginalSample };
    });
    this.advance();
    return result;
  }
}
