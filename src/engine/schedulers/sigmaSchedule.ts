// What the k-diffusion style ("sigma space") schedulers share: Euler, Euler ancestral, Heun, KDPM2,
// KDPM2 ancestral and LMS. diffusers copies these pieces between the classes ("# Copied from ...");
// here they live once. Float32 rounding (f32) sits exactly where diffusers holds torch float32
// tensors; numpy float64 arithmetic in between stays in double.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { makeNoiseTables, type BetaScheduleName } from '../schedule/betas';
import { betaPpf } from '../schedule/betaPpf';
import { arange, f32, interp, linspace, roundHalfEven } from '../schedule/numpy';
import { exponentialSigmas, karrasSigmas, sigmaToT } from '../schedule/sigmas';
import { indexForTimestep, withDefaults } from './common';
import type { NoiseSource, Scheduler, StepOptions, StepResult, TimestepSpacing } from './types';

/** Config keys every sigma scheduler has (diffusers spelling). */
export type SigmaSchedulerConfig = {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: BetaScheduleName;
  trained_betas: number[] | null;
  rescale_betas_zero_snr?: boolean;
  prediction_type: string;
  timestep_spacing: TimestepSpacing;
  steps_offset: number;
};

/** The mutually exclusive `use_*_sigmas` switches. */
export type SigmaConversionConfig = {
  use_karras_sigmas: boolean;
  use_exponential_sigmas: boolean;
  use_beta_sigmas: boolean;
};

export type SigmaConversion = 'karras' | 'exponential' | 'beta';

/** sqrt((1 - ᾱ_t) / ᾱ_t) as diffusers computes it from the float32 alphas_cumprod tensor, t ascending. */
export function trainingSigmas(alphasCumprod: Float32Array): Float32Array {
  return alphasCumprod.map((a) => f32(Math.sqrt(f32(f32(1 - a) / a))));
}

/** np.log of a float32 array: the result is float32 too. */
export function logF32(values: Float32Array): Float32Array {
  return values.map((v) => Math.log(v));
}

/**
 * The `timestep_spacing` rules of the k-diffusion schedulers' set_timesteps (Table 2 of Lin et al.
 * 2023), as float32 values in visiting order (descending).
 */
export function spacedTimesteps(
  spacing: TimestepSpacing,
  numTrainTimesteps: number,
  numInferenceSteps: number,
  stepsOffset: number,
): number[] {
  if (spacing === 'linspace') {
    return linspace(0, numTrainTimesteps - 1, numInferenceSteps)
      .reverse()
      .map(f32);
  }
  if (spacing === 'leading') {
    const stepRatio = Math.floor(numTrainTimesteps / numInferenceSteps);
    return arange(0, numInferenceSteps)
      .map((i) => f32(roundHalfEven(i * stepRatio)))
      .reverse()
      .map((t) => f32(t + stepsOffset));
  }
  if (spacing === 'trailing') {
    const stepRatio = numTrainTimesteps / numInferenceSteps;
    return arange(numTrainTimesteps, 0, -stepRatio).map((t) => f32(f32(roundHalfEven(t)) - 1));
  }
  throw new Error(
    `${String(spacing)} is not supported. Please make sure to choose one of 'linspace', 'leading' or 'trailing'.`,
  );
}

/** np.interp(timesteps, arange(len(sigmas)), sigmas): the training sigmas at fractional timesteps. */
export function interpolateSigmas(timesteps: ArrayLike<number>, sigmas: Float32Array): number[] {
  const positions = arange(0, sigmas.length);
  return Array.from(timesteps, (t) => interp(t, positions, sigmas));
}

/** Which `use_*_sigmas` switch is on; diffusers refuses more than one. */
export function sigmaConversionOf(config: SigmaConversionConfig): SigmaConversion | null {
  const on: SigmaConversion[] = [];
  if (config.use_karras_sigmas) on.push('karras');
  if (config.use_exponential_sigmas) on.push('exponential');
  if (config.use_beta_sigmas) on.push('beta');
  if (on.length > 1) {
    throw new Error(
      'Only one of `config.use_beta_sigmas`, `config.use_exponential_sigmas`, `config.use_karras_sigmas` can be used.',
    );
  }
  return on[0] ?? null;
}

/**
 * diffusers' `_convert_to_karras` / `_convert_to_exponential` / `_convert_to_beta`: n new noise
 * levels between sigma_max and sigma_min (the config's, else the ends of `inSigmas`).
 */
export function convertSigmas(
  conversion: SigmaConversion,
  inSigmas: ArrayLike<number>,
  numInferenceSteps: number,
  sigmaMin: number | null = null,
  sigmaMax: number | null = null,
): number[] {
  const lo = sigmaMin ?? inSigmas[inSigmas.length - 1];
  const hi = sigmaMax ?? inSigmas[0];
  if (conversion === 'karras') return karrasSigmas(lo, hi, numInferenceSteps);
  if (conversion === 'exponential') return exponentialSigmas(lo, hi, numInferenceSteps);
  // Beta sampling (Lee et al. 2024) with alpha = beta = 0.6, diffusers' defaults.
  return linspace(0, 1, numInferenceSteps).map((r) => lo + betaPpf(1 - r, 0.6, 0.6) * (hi - lo));
}

/** `_sigma_to_t` for every sigma (float64, numpy). */
export function timestepsForSigmas(sigmas: ArrayLike<number>, logSigmas: Float32Array): number[] {
  return Array.from(sigmas, (s) => sigmaToT(s, logSigmas));
}

/**
 * `_sigma_to_t` as KDPM2 runs it on torch float32 tensors (its interpolated timesteps): the same
 * log-linear inverse as sigmaToT, but every operation rounded to float32.
 */
export function sigmaToTF32(sigma: number, logSigmas: Float32Array): number {
  const logSigma = f32(Math.log(Math.max(sigma, f32(1e-10))));
  let lowIdx = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigma >= logSigmas[i]) lowIdx = i;
  lowIdx = Math.min(lowIdx, logSigmas.length - 2);
  const low = logSigmas[lowIdx];
  const high = logSigmas[lowIdx + 1];
  let w = f32(f32(low - logSigma) / f32(low - high));
  w = Math.min(1, Math.max(0, w)); // NaN stays NaN, as in torch.clamp
  return f32(f32(f32(1 - w) * lowIdx) + f32(w * (lowIdx + 1)));
}

/** torch.cat([x[:1], x[1:end].repeat_interleave(2), x[-1:]]): each interior value twice. */
export function duplicateInterior(values: ArrayLike<number>, end = values.length): Float32Array {
  const out: number[] = [values[0]];
  for (let i = 1; i < end; i++) out.push(values[i], values[i]);
  out.push(values[values.length - 1]);
  return Float32Array.from(out);
}

/**
 * KDPM2's geometric midpoints: a.log().lerp(b.log(), 0.5).exp() in float32. torch's lerp with
 * weight >= 0.5 computes end - (end - start) * (1 - weight).
 */
export function logMidpoints(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((ai, i) => {
    const start = f32(Math.log(ai));
    const end = f32(Math.log(b[i]));
    return Math.exp(f32(end - f32(f32(end - start) * 0.5)));
  });
}

/** sqrt(sigma^2 + 1), the k-diffusion input scaling c_in = 1 / sqrt(sigma^2 + 1), in float32. */
export function inputScaleDivisor(sigma: number): number {
  return f32(Math.sqrt(f32(f32(sigma * sigma) + 1)));
}

/** x_0 from a v-prediction: c_out * v + c_skip * x with c_out = -sigma/sqrt(sigma²+1), c_skip = 1/(sigma²+1). */
export function x0FromVPrediction(modelOutput: Tensor, sample: Tensor, sigma: number): Tensor {
  const sigmaSqPlusOne = f32(f32(sigma * sigma) + 1);
  const cOut = f32(-sigma / f32(Math.sqrt(sigmaSqPlusOne)));
  return tf.tidy(() => modelOutput.mul(cOut).add(sample.div(sigmaSqPlusOne)));
}

/** x_0 from a noise prediction: x - sigma * eps. */
export function x0FromEpsilon(modelOutput: Tensor, sample: Tensor, sigma: number): Tensor {
  return tf.tidy(() => sample.sub(modelOutput.mul(sigma)));
}

/** Noise for a stochastic step: explicit noise first, then the generator, else unseeded noise. */
export function drawNoise(shape: number[], options: StepOptions): Tensor {
  if (options.varianceNoise) return options.varianceNoise.clone();
  const generator: NoiseSource | undefined = options.generator;
  // diffusers falls back to torch's global RNG when no generator is given.
  return generator ? generator.randn(shape) : tf.randomNormal(shape);
}

/**
 * State and methods all six classes share: the training tables, the plan (timesteps, sigmas), the
 * step/begin index bookkeeping (`_init_step_index`), `scale_model_input`, `add_noise` and
 * `init_noise_sigma`. Subclasses implement set_timesteps and step.
 */
export abstract class SigmaScheduler<
  C extends SigmaSchedulerConfig & Record<string, unknown>,
> implements Scheduler {
  abstract readonly order: number;
  readonly config: Readonly<C>;
  readonly betas: Float32Array;
  readonly alphas: Float32Array;
  readonly alphasCumprod: Float32Array;
  timesteps: Float32Array = new Float32Array(0);
  sigmas: Float32Array = new Float32Array(0);
  numInferenceSteps: number | null = null;
  protected currentStepIndex: number | null = null;
  protected firstStepIndex: number | null = null;

  protected constructor(
    readonly className: string,
    defaults: C,
    overrides: Record<string, unknown> | undefined,
    supportedSchedules: BetaScheduleName[],
  ) {
    const config = withDefaults(defaults, overrides);
    this.config = config;
    if (config.trained_betas == null && !supportedSchedules.includes(config.beta_schedule)) {
      throw new Error(`${config.beta_schedule} is not implemented for ${className}`);
    }
    // Only classes whose diffusers signature has rescale_betas_zero_snr honour it.
    const zeroSnr = 'rescale_betas_zero_snr' in defaults && config.rescale_betas_zero_snr === true;
    const tables = makeNoiseTables({ ...config, rescale_betas_zero_snr: zeroSnr });
    this.betas = tables.betas;
    this.alphas = tables.alphas;
    this.alphasCumprod = tables.alphasCumprod;
  }

  abstract setTimesteps(numInferenceSteps: number): void;
  abstract step(
    modelOutput: Tensor,
    timestep: number,
    sample: Tensor,
    options?: StepOptions,
  ): StepResult;

  get stepIndex(): number | null {
    return this.currentStepIndex;
  }

  get beginIndex(): number | null {
    return this.firstStepIndex;
  }

  setBeginIndex(beginIndex = 0): void {
    this.firstStepIndex = beginIndex;
  }

  /** Standard deviation of the initial noise: the largest sigma, or sqrt(max² + 1) for 'leading'. */
  get initNoiseSigma(): number {
    let max = -Infinity;
    for (const s of this.sigmas) if (s > max || Number.isNaN(s)) max = s;
    const spacing = this.config.timestep_spacing;
    return spacing === 'linspace' || spacing === 'trailing' ? max : inputScaleDivisor(max);
  }

  /** diffusers' `_init_step_index`: the begin index if set, else the timestep's position. */
  protected ensureStepIndex(timestep: number): number {
    if (this.currentStepIndex === null) {
      this.currentStepIndex = this.firstStepIndex ?? indexForTimestep(timestep, this.timesteps);
    }
    return this.currentStepIndex;
  }

  /** The sigma scale_model_input divides by; KDPM2 overrides it for its midpoint evaluations. */
  protected modelInputSigma(stepIndex: number): number {
    return this.sigmas[stepIndex];
  }

  scaleModelInput(sample: Tensor, timestep: number): Tensor {
    const divisor = inputScaleDivisor(this.modelInputSigma(this.ensureStepIndex(timestep)));
    return tf.tidy(() => sample.div(divisor));
  }

  /** Forward process of the variance-exploding parameterisation: x + sigma * noise. */
  addNoise(originalSamples: Tensor, noise: Tensor, timestep: number): Tensor {
    let index: number;
    if (this.firstStepIndex === null) index = indexForTimestep(timestep, this.timesteps);
    else index = this.currentStepIndex ?? this.firstStepIndex; // inpainting: after the first step
    const sigma = this.sigmas[index];
    return tf.tidy(() => originalSamples.add(noise.mul(sigma)));
  }

  /** Move to the next timestep of the plan (end of diffusers' step()). */
  protected advance(): void {
    if (this.currentStepIndex !== null) this.currentStepIndex += 1;
  }

  /** Forget the position in the plan (end of diffusers' set_timesteps). */
  protected resetPosition(): void {
    this.currentStepIndex = null;
    this.firstStepIndex = null;
  }

  /** Tensors kept between steps (multistep history); released on set_timesteps and dispose. */
  protected clearHistory(): void {}

  dispose(): void {
    this.clearHistory();
  }
}
