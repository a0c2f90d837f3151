// DDIMScheduler: a line-by-line port of diffusers' scheduling_ddim.py (Song et al. 2020,
// "Denoising Diffusion Implicit Models", arXiv:2010.02502), formulas (12) and (16).
//
// The step is determined by the timestep value alone (prev_t = t - T / n), so starting part-way
// through the plan (img2img, set_begin_index) needs no bookkeeping.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { BetaScheduleName } from '../schedule/betas';
import { arange, f32 } from '../schedule/numpy';
import { withDefaults } from './common';
import {
  addNoiseAlphaProd,
  alphaProdAt,
  alphaTables,
  clipOrThreshold,
  predictOriginalSample,
  spacedTimesteps,
  sqrt32,
  varianceNoiseFor,
} from './ddpm';
import type { PredictionType, Scheduler, StepOptions, StepResult, TimestepSpacing } from './types';

export type DDIMConfig = {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: BetaScheduleName;
  trained_betas: number[] | null;
  clip_sample: boolean;
  set_alpha_to_one: boolean;
  steps_offset: number;
  prediction_type: PredictionType;
  thresholding: boolean;
  dynamic_thresholding_ratio: number;
  clip_sample_range: number;
  sample_max_value: number;
  timestep_spacing: TimestepSpacing;
  rescale_betas_zero_snr: boolean;
};

export const DDIM_DEFAULTS: DDIMConfig = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  clip_sample: true,
  set_alpha_to_one: true,
  steps_offset: 0,
  prediction_type: 'epsilon',
  thresholding: false,
  dynamic_thresholding_ratio: 0.995,
  clip_sample_range: 1.0,
  sample_max_value: 1.0,
  timestep_spacing: 'leading',
  rescale_betas_zero_snr: false,
};

const DDIM_SCHEDULES: readonly BetaScheduleName[] = [
  'linear',
  'scaled_linear',
  'squaredcos_cap_v2',
];

export class DDIMScheduler implements Scheduler {
  readonly className = 'DDIMScheduler';
  readonly config: Readonly<DDIMConfig>;
  readonly order = 1;
  readonly initNoiseSigma = 1.0;
  readonly sigmas = null;
  readonly betas: Float32Array;
  readonly alphas: Float32Array;
  readonly alphasCumprod: Float32Array;
  /**
   * alphā used "before" timestep 0 on the last step: 1 (set_alpha_to_one) or alphā_0.
   */
  readonly finalAlphaCumprod: number;

  private _timesteps: Float32Array;
  private _numInferenceSteps: number | null = null;
  private _stepIndex: number | null = null;

  constructor(config?: Record<string, unknown>) {
    this.config = withDefaults(DDIM_DEFAULTS, config);
    const tables = alphaTables(this.config, this.className, DDIM_SCHEDULES);
    this.betas = tables.betas;
    this.alphas = tables.alphas;
    this.alphasCumprod = tables.alphasCumprod;
    this.finalAlphaCumprod = this.config.set_alpha_to_one ? 1.0 : this.alphasCumprod[0];
    this._timesteps = Float32Array.from(arange(0, this.config.num_train_timesteps).reverse());
  }

  get timesteps(): Float32Array {
    return this._timesteps;
  }

  get numInferenceSteps(): number | null {
    return this._numInferenceSteps;
  }

  get stepIndex(): number | null {
    return this._stepIndex;
  }

  setTimesteps(numInferenceSteps: number): void {
    const numTrain = this.config.num_train_timesteps;
    if (!(numInferenceSteps >= 1)) {
      throw new Error(
        `\`num_inference_steps\` must be a positive integer, got ${numInferenceSteps}`,
      );
    }
    if (numInferenceSteps > numTrain) {
      throw new Error(
        `\`num_inference_steps\`: ${numInferenceSteps} cannot be larger than \`self.config.train_timesteps\`:` +
          ` ${numTrain} as the unet model trained with this scheduler can only handle maximal ${numTrain} timesteps.`,
      );
    }
    this._numInferenceSteps = numInferenceSteps;
    this._stepIndex = null;
    this._timesteps = Float32Array.from(
      spacedTimesteps(
        this.config.timestep_spacing,
        numTrain,
        numInferenceSteps,
        this.config.steps_offset,
      ),
    );
  }

  /** The step only depends on the timestep value, so this only records the position. */
  setBeginIndex(beginIndex: number): void {
    this._stepIndex = beginIndex;
  }

  scaleModelInput(sample: Tensor): Tensor {
    return sample.clone();
  }

  /** _get_variance: sigma_t^2 / eta^2 of formula (16), (1-ā_prev)/(1-ā_t) * (1 - ā_t/ā_prev). */
  getVariance(timestep: number, prevTimestep: number): number {
    const alphaProdT = alphaProdAt(this.alphasCumprod, timestep);
    const alphaProdTPrev = this.alphaProdPrev(prevTimestep);
    const betaProdT = f32(1 - alphaProdT);
    const betaProdTPrev = f32(1 - alphaProdTPrev);
    return f32(f32(betaProdTPrev / betaProdT) * f32(1 - f32(alphaProdT / alphaProdTPrev)));
  }

  step(
    modelOutput: Tensor,
    timestep: number,
    sample: Tensor,
    options: StepOptions = {},
  ): StepResult {
    if (this._numInferenceSteps == null) {
      throw new Error(
        "Number of inference steps is 'None', you need to run 'set_timesteps' after creating the scheduler",
      );
    }
    const eta = options.eta ?? 0.0;
    const useClippedModelOutput = options.useClippedModelOutput ?? false;
    if (eta > 0 && options.varianceNoise && options.generator) {
      throw new Error(
        'Cannot pass both generator and variance_noise. Please make sure that either `generator` or' +
          ' `variance_noise` stays `None`.',
      );
    }

    // 1. previous step value: one stride of the plan back, whatever the spacing
    const prevTimestep =
      timestep - Math.floor(this.config.num_train_timesteps / this._numInferenceSteps);

    // 2. alphas, betas
    const alphaProdT = alphaProdAt(this.alphasCumprod, timestep);
    const alphaProdTPrev = this.alphaProdPrev(prevTimestep);
    const betaProdT = f32(1 - alphaProdT);
    const sqrtAlphaProdT = sqrt32(alphaProdT);
    const sqrtBetaProdT = sqrt32(betaProdT);

    // 5. sigma_t(eta), formula (16)
    const variance = this.getVariance(timestep, prevTimestep);
    const stdDevT = f32(f32(eta) * sqrt32(variance));

    const result = tf.tidy(() => {
      // 3. predicted x_0 ("f_theta", formula (12)) and predicted noise
      const type = this.config.prediction_type;
      const rawX0 = predictOriginalSample(type, modelOutput, sample, alphaProdT);
      let predEpsilon: Tensor;
      if (type === 'epsilon') predEpsilon = modelOutput;
      else if (type === 'sample') {
        predEpsilon = sample.sub(rawX0.mul(sqrtAlphaProdT)).div(sqrtBetaProdT);
      } else predEpsilon = modelOutput.mul(sqrtAlphaProdT).add(sample.mul(sqrtBetaProdT));

      // 4. clip or threshold predicted x_0
      const predOriginalSample = clipOrThreshold(rawX0, this.config);

      // Glide re-derives epsilon from the clipped x_0.
      if (useClippedModelOutput) {
        predEpsilon = sample.sub(predOriginalSample.mul(sqrtAlphaProdT)).div(sqrtBetaProdT);
      }

      // 6. "direction pointing to x_t"; 7. x_{t-1} without the random noise, formula (12)
      const directionCoeff = sqrt32(f32(f32(1 - alphaProdTPrev) - f32(stdDevT * stdDevT)));
      let prevSample = predOriginalSample
        .mul(sqrt32(alphaProdTPrev))
        .add(predEpsilon.mul(directionCoeff));

      if (eta > 0) {
        const noise = varianceNoiseFor(modelOutput.shape, options, this.className);
        prevSample = prevSample.add(noise.mul(stdDevT));
      }
      return { prevSample, predOriginalSample };
    });
    const index = this._timesteps.indexOf(timestep);
    if (index >= 0) this._stepIndex = index + 1;
    return result;
  }

  addNoise(originalSamples: Tensor, noise: Tensor, timestep: number): Tensor {
    return addNoiseAlphaProd(this.alphasCumprod, originalSamples, noise, timestep);
  }

  /** get_velocity: the v-prediction target sqrt(alphā_t) noise - sqrt(1 - alphā_t) x_0. */
  getVelocity(sample: Tensor, noise: Tensor, timestep: number): Tensor {
    const alphaProd = alphaProdAt(this.alphasCumprod, timestep);
    return tf.tidy(() => noise.mul(sqrt32(alphaProd)).sub(sample.mul(sqrt32(f32(1 - alphaProd)))));
  }

  dispose(): void {
    // Holds no tensors.
  }

  private alphaProdPrev(prevTimestep: number): number {
    return prevTimestep >= 0
      ? alphaProdAt(this.alphasCumprod, prevTimestep)
      : this.finalAlphaCumprod;
  }
}
