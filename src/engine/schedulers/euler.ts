// EulerDiscreteScheduler: Algorithm 2 of Karras et al. 2022 ("Elucidating the Design Space of
// Diffusion-Based Generative Models"), with optional churn, ported from diffusers'
// scheduling_euler_discrete.py (itself after k-diffusion's sample_euler).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { f32, torchLinspaceF32 } from '../schedule/numpy';
import { sigmaToT } from '../schedule/sigmas';
import {
  SigmaScheduler,
  convertSigmas,
  drawNoise,
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
import type { StepOptions, StepResult } from './types';

export type EulerDiscreteConfig = SigmaSchedulerConfig &
  SigmaConversionConfig & {
    interpolation_type: 'linear' | 'log_linear';
    sigma_min: number | null;
    sigma_max: number | null;
    timestep_type: 'discrete' | 'continuous';
    rescale_betas_zero_snr: boolean;
    final_sigmas_type: 'zero' | 'sigma_min';
  };

export const EULER_DISCRETE_DEFAULTS: EulerDiscreteConfig = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  prediction_type: 'epsilon',
  interpolation_type: 'linear',
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  sigma_min: null,
  sigma_max: null,
  timestep_spacing: 'linspace',
  timestep_type: 'discrete',
  steps_offset: 0,
  rescale_betas_zero_snr: false,
  final_sigmas_type: 'zero',
};

/** set_timesteps' optional custom plan: explicit timesteps or explicit sigmas (incl. the final one). */
export interface EulerCustomPlan {
  timesteps?: ArrayLike<number>;
  sigmas?: ArrayLike<number>;
}

export class EulerDiscreteScheduler extends SigmaScheduler<EulerDiscreteConfig> {
  readonly order = 1;

  /** `className`: for samplers of ours built on Euler's noise levels (AnnealedLangevinScheduler). */
  constructor(config?: Record<string, unknown>, className = 'EulerDiscreteScheduler') {
    super(className, EULER_DISCRETE_DEFAULTS, config, [
      'linear',
      'scaled_linear',
      'squaredcos_cap_v2',
    ]);
    sigmaConversionOf(this.config);
    // Before set_timesteps: the full training plan, t = N-1 ... 0.
    const sigmas = Array.from(trainingSigmas(this.alphasCumprod)).reverse();
    const n = this.config.num_train_timesteps;
    this.timesteps = this.isContinuousV()
      ? Float32Array.from(sigmas, (s) => 0.25 * f32(Math.log(s)))
      : Float32Array.from({ length: n }, (_, i) => n - 1 - i);
    this.sigmas = Float32Array.from([...sigmas, 0]);
  }

  /** EDM-style continuous timesteps (t = log(sigma) / 4), which diffusers only wires up for v-prediction. */
  private isContinuousV(): boolean {
    return (
      this.config.timestep_type === 'continuous' && this.config.prediction_type === 'v_prediction'
    );
  }

  setTimesteps(numInferenceSteps: number | null, custom: EulerCustomPlan = {}): void {
    const cfg = this.config;
    const conversion = sigmaConversionOf(cfg);
    if (custom.timesteps && custom.sigmas) {
      throw new Error('Only one of `timesteps` or `sigmas` should be set.');
    }
    if (numInferenceSteps == null && !custom.timesteps && !custom.sigmas) {
      throw new Error('Must pass exactly one of `num_inference_steps` or `timesteps` or `sigmas.');
    }
    if (numInferenceSteps != null && (custom.timesteps || custom.sigmas)) {
      throw new Error('Can only pass one of `num_inference_steps` or `timesteps` or `sigmas`.');
    }
    if (custom.timesteps && conversion) {
      throw new Error(`Cannot set \`timesteps\` with \`config.use_${conversion}_sigmas = True\`.`);
    }
    if (custom.timesteps && this.isContinuousV()) {
      throw new Error(
        "Cannot set `timesteps` with `config.timestep_type = 'continuous'` and `config.prediction_type = 'v_prediction'`.",
      );
    }
    const n =
      numInferenceSteps ??
      (custom.timesteps
        ? custom.timesteps.length
        : (custom.sigmas as ArrayLike<number>).length - 1);
    this.numInferenceSteps = n;

    const trainSigmas = trainingSigmas(this.alphasCumprod);
    const logSigmas = logF32(trainSigmas);
    let timesteps: number[];
    let sigmas: Float32Array;

    if (custom.sigmas) {
      sigmas = Float32Array.from(custom.sigmas);
      timesteps = Array.from(sigmas.subarray(0, -1), (s) => sigmaToT(s, logSigmas));
    } else {
      timesteps = custom.timesteps
        ? Array.from(custom.timesteps, f32)
        : spacedTimesteps(cfg.timestep_spacing, cfg.num_train_timesteps, n, cfg.steps_offset);

      let plan: number[];
      if (cfg.interpolation_type === 'linear') {
        plan = interpolateSigmas(timesteps, trainSigmas);
      } else if (cfg.interpolation_type === 'log_linear') {
        // torch.linspace(log σ_max, log σ_min, n + 1).exp() in float32 (note: n + 1 values).
        const logMax = f32(Math.log(trainSigmas[trainSigmas.length - 1]));
        const logMin = f32(Math.log(trainSigmas[0]));
        plan = Array.from(torchLinspaceF32(logMax, logMin, n + 1), (v) => f32(Math.exp(v)));
      } else {
        throw new Error(
          `${String(cfg.interpolation_type)} is not implemented. Please specify interpolation_type to either 'linear' or 'log_linear'`,
        );
      }

      if (conversion) {
        plan = convertSigmas(conversion, plan, n, cfg.sigma_min, cfg.sigma_max);
        timesteps = timestepsForSigmas(plan, logSigmas);
      }

      let sigmaLast: number;
      if (cfg.final_sigmas_type === 'sigma_min') sigmaLast = trainSigmas[0];
      else if (cfg.final_sigmas_type === 'zero') sigmaLast = 0;
      else {
        throw new Error(
          `\`final_sigmas_type\` must be one of 'zero', or 'sigma_min', but got ${String(cfg.final_sigmas_type)}`,
        );
      }
      sigmas = Float32Array.from([...plan, sigmaLast]);
    }

    this.sigmas = sigmas;
    this.timesteps = this.isContinuousV()
      ? Float32Array.from(sigmas.subarray(0, -1), (s) => 0.25 * f32(Math.log(s)))
      : Float32Array.from(timesteps);
    this.resetPosition();
  }

  step(
    modelOutput: Tensor,
    timestep: number,
    sample: Tensor,
    options: StepOptions = {},
  ): StepResult {
    const i = this.ensureStepIndex(timestep);
    const sChurn = options.sChurn ?? 0;
    const sTmin = options.sTmin ?? 0;
    const sTmax = options.sTmax ?? Infinity;
    const sNoise = options.sNoise ?? 1;
    const sigma = this.sigmas[i];
    // Churn (Karras et al. eq. 7 / Algorithm 2): raise the noise level to sigma_hat first.
    const gamma =
      sTmin <= sigma && sigma <= sTmax
        ? Math.min(sChurn / (this.sigmas.length - 1), 2 ** 0.5 - 1)
        : 0;
    const sigmaHat = f32(sigma * f32(gamma + 1));
    const dt = f32(this.sigmas[i + 1] - sigmaHat);

    const result = tf.tidy(() => {
      let x = sample;
      if (gamma > 0) {
        const eps = drawNoise(modelOutput.shape, options).mul(sNoise);
        const extra = f32(Math.sqrt(f32(f32(sigmaHat * sigmaHat) - f32(sigma * sigma))));
        x = x.add(eps.mul(extra));
      }
      let predOriginalSample: Tensor;
      const type = this.config.prediction_type;
      if (type === 'original_sample' || type === 'sample') predOriginalSample = modelOutput.clone();
      else if (type === 'epsilon') predOriginalSample = x0FromEpsilon(modelOutput, x, sigmaHat);
      else if (type === 'v_prediction')
        predOriginalSample = x0FromVPrediction(modelOutput, x, sigma);
      else {
        throw new Error(
          `prediction_type given as ${type} must be one of \`epsilon\`, or \`v_prediction\``,
        );
      }
      // ODE derivative d = (x - x_0) / sigma_hat, then one Euler step to the next sigma.
      const derivative = x.sub(predOriginalSample).div(sigmaHat);
      const prevSample = x.add(derivative.mul(dt));
      return { prevSample, predOriginalSample };
    });
    this.advance();
    return result;
  }
}
