// DDPMScheduler: a line-by-line port of diffusers' scheduling_ddpm.py (Ho et al. 2020, "Denoising
// Diffusion Probabilistic Models", arXiv:2006.11239). Also home of the pieces DDIM and PNDM copy
// from it in diffusers ("# Copied from ...DDPMScheduler.add_noise"): the alphā tables, the
// timestep spacings and add_noise.
//
// Scalar coefficients are rounded to float32 after every operation, because diffusers computes
// them on 0-d float32 tensors (alphas_cumprod[t]); tensor math is float32 anyway.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import {
  cumprodF32,
  makeBetas,
  type BetaScheduleName,
  type NoiseScheduleConfig,
  type NoiseTables,
} from '../schedule/betas';
import { arange, f32, linspace, roundHalfEven } from '../schedule/numpy';
import { thresholdSample, withDefaults } from './common';
import type {
  NoiseSource,
  PredictionType,
  Scheduler,
  StepOptions,
  StepResult,
  TimestepSpacing,
} from './types';

/** float32 sqrt of a float32 scalar (torch's `x ** 0.5` on a 0-d float32 tensor). */
export const sqrt32 = (x: number): number => f32(Math.sqrt(x));

/**
 * betas, alphas and alphas_cumprod as DDPM/DDIM/PNDM build them. Unlike makeNoiseTables this keeps
 * alphā_T = 0 under rescale_betas_zero_snr: only the sigma-based schedulers clamp it to 2^-24.
 */
export function alphaTables(
  config: NoiseScheduleConfig,
  className: string,
  schedules: readonly BetaScheduleName[],
): NoiseTables {
  if (config.trained_betas == null && !schedules.includes(config.beta_schedule)) {
    throw new Error(`${config.beta_schedule} is not implemented for ${className}`);
  }
  const betas = makeBetas(config);
  const alphas = betas.map((b) => 1 - b);
  return { betas, alphas, alphasCumprod: cumprodF32(alphas) };
}

/** alphas_cumprod[t] for an integer timestep, with torch's indexing error made explicit. */
export function alphaProdAt(alphasCumprod: Float32Array, t: number): number {
  if (!Number.isInteger(t) || t < 0 || t >= alphasCumprod.length) {
    throw new Error(`timestep ${t} is not an integer in [0, ${alphasCumprod.length})`);
  }
  return alphasCumprod[t];
}

/**
 * The descending integer timesteps of DDPM/DDIM's set_timesteps for each `timestep_spacing`
 * ("linspace", "leading", "trailing": Table 2 of Lin et al. 2023, arXiv:2305.08891).
 */
export function spacedTimesteps(
  spacing: TimestepSpacing,
  numTrainTimesteps: number,
  numInferenceSteps: number,
  stepsOffset: number,
): number[] {
  if (spacing === 'linspace') {
    return linspace(0, numTrainTimesteps - 1, numInferenceSteps)
      .map(roundHalfEven)
      .reverse();
  }
  if (spacing === 'leading') {
    // Integer step ratio, so every timestep is an integer ("power of 3" fix in diffusers).
    const stepRatio = Math.floor(numTrainTimesteps / numInferenceSteps);
    return arange(0, numInferenceSteps)
      .map((i) => i * stepRatio + stepsOffset)
      .reverse();
  }
  if (spacing === 'trailing') {
    const stepRatio = numTrainTimesteps / numInferenceSteps;
    return arange(numTrainTimesteps, 0, -stepRatio).map((t) => roundHalfEven(t) - 1);
  }
  throw new Error(
    `${String(spacing)} is not supported. Please make sure to choose one of 'linspace', 'leading' or 'trailing'.`,
  );
}

/** add_noise: the forward process q(x_t | x_0) = sqrt(alphā_t) x_0 + sqrt(1 - alphā_t) noise. */
export function addNoiseAlphaProd(
  alphasCumprod: Float32Array,
  originalSamples: Tensor,
  noise: Tensor,
  timestep: number,
): Tensor {
  const alphaProd = alphaProdAt(alphasCumprod, timestep);
  const sqrtAlphaProd = sqrt32(alphaProd);
  const sqrtOneMinusAlphaProd = sqrt32(f32(1 - alphaProd));
  return tf.tidy(() => originalSamples.mul(sqrtAlphaProd).add(noise.mul(sqrtOneMinusAlphaProd)));
}

/** Gaussian noise for a stochastic step: explicit `varianceNoise` first, else the generator. */
export function varianceNoiseFor(shape: number[], options: StepOptions, who: string): Tensor {
  if (options.varianceNoise) return options.varianceNoise.clone();
  const generator: NoiseSource | undefined = options.generator;
  if (!generator) {
    throw new Error(`${who} needs options.generator or options.varianceNoise for this step`);
  }
  return generator.randn(shape);
}

/**
 * x_0 from the model output at alphā_t (DDPM formula (15) and the v-parameterisation of
 * Salimans & Ho 2022), with diffusers' float32 rounding of each coefficient.
 */
export function predictOriginalSample(
  predictionType: PredictionType,
  modelOutput: Tensor,
  sample: Tensor,
  alphaProdT: number,
): Tensor {
  const betaProdT = f32(1 - alphaProdT);
  return tf.tidy(() => {
    if (predictionType === 'epsilon') {
      return sample.sub(modelOutput.mul(sqrt32(betaProdT))).div(sqrt32(alphaProdT));
    }
    if (predictionType === 'sample') return modelOutput.clone();
    if (predictionType === 'v_prediction') {
      return sample.mul(sqrt32(alphaProdT)).sub(modelOutput.mul(sqrt32(betaProdT)));
    }
    throw new Error(
      `prediction_type given as ${String(predictionType)} must be one of \`epsilon\`, \`sample\` or \`v_prediction\``,
    );
  });
}

/** "Clip or threshold predicted x_0" (step 3/4 of DDPM and DDIM). Returns a new tensor. */
export function clipOrThreshold(
  x0: Tensor,
  config: {
    thresholding: boolean;
    clip_sample: boolean;
    clip_sample_range: number;
    dynamic_thresholding_ratio: number;
    sample_max_value: number;
  },
): Tensor {
  if (config.thresholding) {
    return thresholdSample(x0, config.dynamic_thresholding_ratio, config.sample_max_value);
  }
  if (config.clip_sample) {
    const range = f32(config.clip_sample_range);
    return tf.clipByValue(x0, -range, range);
  }
  return x0.clone();
}

export type DDPMVarianceType =
  | 'fixed_small'
  | 'fixed_small_log'
  | 'fixed_large'
  | 'fixed_large_log'
  | 'learned'
  | 'learned_range';

export type DDPMConfig = {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: BetaScheduleName;
  trained_betas: number[] | null;
  variance_type: DDPMVarianceType;
  clip_sample: boolean;
  prediction_type: PredictionType;
  thresholding: boolean;
  dynamic_thresholding_ratio: number;
  clip_sample_range: number;
  sample_max_value: number;
  timestep_spacing: TimestepSpacing;
  steps_offset: number;
  rescale_betas_zero_snr: boolean;
};

export const DDPM_DEFAULTS: DDPMConfig = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  variance_type: 'fixed_small',
  clip_sample: true,
  prediction_type: 'epsilon',
  thresholding: false,
  dynamic_thresholding_ratio: 0.995,
  clip_sample_range: 1.0,
  sample_max_value: 1.0,
  timestep_spacing: 'leading',
  steps_offset: 0,
  rescale_betas_zero_snr: false,
};

const DDPM_SCHEDULES: readonly BetaScheduleName[] = [
  'linear',
  'scaled_linear',
  'squaredcos_cap_v2',
  'laplace',
  'sigmoid',
];

/**
 * Splits a model output that carries a predicted variance (learned / learned_range, e.g. the
 * improved-DDPM UNets). diffusers splits channels on dim 1 (NCHW); our models are NHWC, so the
 * last axis is used when it, and not dim 1, is the doubled one.
 */
function splitLearnedVariance(modelOutput: Tensor, sample: Tensor): [Tensor, Tensor] | null {
  const outShape: number[] = modelOutput.shape;
  const sampleShape: number[] = sample.shape;
  const rank = sampleShape.length;
  if (rank >= 2 && outShape[1] === sampleShape[1] * 2) {
    return tf.split(modelOutput, 2, 1) as [Tensor, Tensor];
  }
  const last = rank - 1;
  if (rank >= 2 && outShape[last] === sampleShape[last] * 2) {
    return tf.split(modelOutput, 2, last) as [Tensor, Tensor];
  }
  return null;
}

export class DDPMScheduler implements Scheduler {
  readonly className = 'DDPMScheduler';
  readonly config: Readonly<DDPMConfig>;
  readonly order = 1;
  readonly initNoiseSigma = 1.0;
  readonly sigmas = null;
  readonly betas: Float32Array;
  readonly alphas: Float32Array;
  readonly alphasCumprod: Float32Array;

  private _timesteps: Float32Array;
  private _numInferenceSteps: number | null = null;
  private _customTimesteps = false;
  private _stepIndex: number | null = null;

  constructor(config?: Record<string, unknown>) {
    this.config = withDefaults(DDPM_DEFAULTS, config);
    const tables = alphaTables(this.config, this.className, DDPM_SCHEDULES);
    this.betas = tables.betas;
    this.alphas = tables.alphas;
    this.alphasCumprod = tables.alphasCumprod;
    // Before set_timesteps diffusers steps through every training timestep.
    this._timesteps = Float32Array.from(arange(0, this.config.num_train_timesteps).reverse());
  }

  get timesteps(): Float32Array {
    return this._timesteps;
  }

  get numInferenceSteps(): number | null {
    return this._numInferenceSteps;
  }

  get customTimesteps(): boolean {
    return this._customTimesteps;
  }

  get stepIndex(): number | null {
    return this._stepIndex;
  }

  /**
   * set_timesteps(num_inference_steps) or, with `numInferenceSteps = null`, custom descending
   * `timesteps` (diffusers' `timesteps=` argument).
   */
  setTimesteps(numInferenceSteps: number | null, timesteps?: number[]): void {
    const numTrain = this.config.num_train_timesteps;
    if (numInferenceSteps != null && timesteps != null) {
      throw new Error('Can only pass one of `num_inference_steps` or `custom_timesteps`.');
    }
    this._stepIndex = null;
    if (timesteps != null) {
      for (let i = 1; i < timesteps.length; i++) {
        if (timesteps[i] >= timesteps[i - 1]) {
          throw new Error('`custom_timesteps` must be in descending order.');
        }
      }
      if (timesteps[0] >= numTrain) {
        throw new Error(
          `\`timesteps\` must start before \`self.config.train_timesteps\`: ${numTrain}.`,
        );
      }
      this._timesteps = Float32Array.from(timesteps.map((t) => Math.trunc(t)));
      this._customTimesteps = true;
      return;
    }
    if (numInferenceSteps == null || !(numInferenceSteps >= 1)) {
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
    this._customTimesteps = false;
    this._timesteps = Float32Array.from(
      spacedTimesteps(
        this.config.timestep_spacing,
        numTrain,
        numInferenceSteps,
        this.config.steps_offset,
      ),
    );
  }

  /** DDPM finds its place from the timestep value, so this only records the position. */
  setBeginIndex(beginIndex: number): void {
    this._stepIndex = beginIndex;
  }

  scaleModelInput(sample: Tensor): Tensor {
    return sample.clone();
  }

  /** previous_timestep: the next entry of the plan (or t - 1 before set_timesteps); -1 at the end. */
  previousTimestep(timestep: number): number {
    if (this._customTimesteps || this._numInferenceSteps) {
      const index = this._timesteps.indexOf(timestep);
      if (index < 0) throw new Error(`timestep ${timestep} is not in the scheduler's timesteps`);
      return index === this._timesteps.length - 1 ? -1 : this._timesteps[index + 1];
    }
    return timestep - 1;
  }

  /**
   * _get_variance: the posterior variance beta~_t (DDPM formulas (6)-(7)) or one of its variants.
   * Returns a number for the fixed types and a tensor for learned / learned_range. For
   * fixed_small_log it is already a standard deviation, as in diffusers.
   */
  getVariance(
    t: number,
    predictedVariance?: Tensor,
    varianceType: string = this.config.variance_type,
  ): number | Tensor {
    const prevT = this.previousTimestep(t);
    const alphaProdT = alphaProdAt(this.alphasCumprod, t);
    const alphaProdTPrev = prevT >= 0 ? alphaProdAt(this.alphasCumprod, prevT) : 1;
    const currentBetaT = f32(1 - f32(alphaProdT / alphaProdTPrev));
    let variance = f32(f32(f32(1 - alphaProdTPrev) / f32(1 - alphaProdT)) * currentBetaT);
    // "we always take the log of variance, so clamp it to ensure it's not 0"
    variance = Math.max(variance, f32(1e-20));
    switch (varianceType) {
      case 'fixed_small_log':
        return f32(Math.exp(f32(0.5 * f32(Math.log(variance)))));
      case 'fixed_large':
        return currentBetaT;
      case 'fixed_large_log':
        return f32(Math.log(currentBetaT));
      case 'learned':
        return requireTensor(predictedVariance).clone();
      case 'learned_range': {
        const minLog = f32(Math.log(variance));
        const maxLog = f32(Math.log(currentBetaT));
        const pv = requireTensor(predictedVariance);
        return tf.tidy(() => {
          const frac = pv.add(1).div(2);
          return frac.mul(maxLog).add(tf.scalar(1).sub(frac).mul(minLog));
        });
      }
      default:
        // fixed_small, and (like diffusers) any unknown name.
        return variance;
    }
  }

  step(
    modelOutput: Tensor,
    timestep: number,
    sample: Tensor,
    options: StepOptions = {},
  ): StepResult {
    const t = timestep;
    const prevT = this.previousTimestep(t);
    const learned =
      this.config.variance_type === 'learned' || this.config.variance_type === 'learned_range';
    const split = learned ? splitLearnedVariance(modelOutput, sample) : null;
    const output = split ? split[0] : modelOutput;
    const predictedVariance = split ? split[1] : undefined;

    // 1. compute alphas, betas
    const alphaProdT = alphaProdAt(this.alphasCumprod, t);
    const alphaProdTPrev = prevT >= 0 ? alphaProdAt(this.alphasCumprod, prevT) : 1;
    const betaProdT = f32(1 - alphaProdT);
    const betaProdTPrev = f32(1 - alphaProdTPrev);
    const currentAlphaT = f32(alphaProdT / alphaProdTPrev);
    const currentBetaT = f32(1 - currentAlphaT);

    const result = tf.tidy(() => {
      // 2. predicted x_0, formula (15); 3. clip or threshold it
      const rawX0 = predictOriginalSample(this.config.prediction_type, output, sample, alphaProdT);
      const predOriginalSample = clipOrThreshold(rawX0, this.config);

      // 4./5. posterior mean mu~_t(x_t, x_0), formula (7)
      const x0Coeff = f32(f32(sqrt32(alphaProdTPrev) * currentBetaT) / betaProdT);
      const sampleCoeff = f32(f32(sqrt32(currentAlphaT) * betaProdTPrev) / betaProdT);
      let prevSample = predOriginalSample.mul(x0Coeff).add(sample.mul(sampleCoeff));

      // 6. add noise
      if (t > 0) {
        const noise = varianceNoiseFor(output.shape, options, this.className);
        const variance = this.getVariance(t, predictedVariance);
        let scaled: Tensor;
        if (this.config.variance_type === 'fixed_small_log') {
          scaled = noise.mul(variance);
        } else if (this.config.variance_type === 'learned_range') {
          scaled = tf.exp(tf.mul(variance, 0.5)).mul(noise);
        } else {
          scaled =
            typeof variance === 'number'
              ? noise.mul(sqrt32(variance))
              : tf.sqrt(variance).mul(noise);
        }
        prevSample = prevSample.add(scaled);
      }
      return { prevSample, predOriginalSample };
    });
    split?.forEach((s) => s.dispose());
    const index = this._timesteps.indexOf(t);
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
}

function requireTensor(t: Tensor | undefined): Tensor {
  if (!t) throw new Error('this variance_type needs a model output with a predicted variance');
  return t;
}
