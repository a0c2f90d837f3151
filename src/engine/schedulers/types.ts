// The one shape every scheduler has, mirroring diffusers' SchedulerMixin so a user who knows
// diffusers finds the same calls: setTimesteps / scaleModelInput / step / addNoise.
import type { Tensor } from '@tensorflow/tfjs-core';

export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';
export type TimestepSpacing = 'linspace' | 'leading' | 'trailing';

/** Anything that draws standard normal noise of a shape (our seeded RNG implements it). */
export interface NoiseSource {
  randn(shape: number[]): Tensor;
}

export interface StepOptions {
  /** DDIM's eta: 0 is deterministic DDIM, 1 is DDPM-like ancestral sampling. */
  eta?: number;
  /** DDIM's use_clipped_model_output. */
  useClippedModelOutput?: boolean;
  /** Randomness for stochastic steps (DDPM, ancestral samplers, DDIM with eta > 0, SDE solvers). */
  generator?: NoiseSource;
  /** Explicit variance noise, as diffusers' `variance_noise`; takes precedence over generator. */
  varianceNoise?: Tensor;
  /** Euler's s_churn / s_tmin / s_tmax / s_noise. */
  sChurn?: number;
  sTmin?: number;
  sTmax?: number;
  sNoise?: number;
  /** LMSDiscreteScheduler's `order` (how many past derivatives the multistep uses; default 4). */
  order?: number;
}

export interface StepResult {
  /** x_{t-1}: the sample to feed to the next step. Owned by the caller (dispose it). */
  prevSample: Tensor;
  /** The model's current estimate of x_0, where the scheduler computes one. Owned by the caller. */
  predOriginalSample?: Tensor;
}

/**
 * Tensor ownership: `step`, `scaleModelInput` and `addNoise` never dispose their arguments and
 * always return tensors the caller owns. Tensors a scheduler remembers between steps (multistep
 * history) are its own: it keeps them with `tf.keep`, disposes them when they fall out of the
 * history, on `setTimesteps`, and on `dispose()`.
 */
export interface Scheduler {
  /** diffusers class name, e.g. "DPMSolverMultistepScheduler". */
  readonly className: string;
  /** The full config with defaults filled in, in diffusers' snake_case keys. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Model evaluations per solver step (2 for Heun and KDPM2, else 1). */
  readonly order: number;
  /** Timesteps (training-time t, possibly fractional) in the order they are visited. */
  readonly timesteps: Float32Array;
  /** Noise levels per timestep, for sigma-based schedulers (length timesteps + 1); else null. */
  readonly sigmas: Float32Array | null;
  readonly initNoiseSigma: number;
  /** Index into `timesteps` of the next step, once known. */
  readonly stepIndex: number | null;
  setTimesteps(numInferenceSteps: number): void;
  /** Start part-way through the plan (diffusers' set_begin_index), e.g. for img2img. */
  setBeginIndex(beginIndex: number): void;
  scaleModelInput(sample: Tensor, timestep: number): Tensor;
  step(modelOutput: Tensor, timestep: number, sample: Tensor, options?: StepOptions): StepResult;
  /** Forward process q(x_t | x_0) at one timestep of this scheduler's plan (or its training range). */
  addNoise(originalSamples: Tensor, noise: Tensor, timestep: number): Tensor;
  dispose(): void;
}

export type SchedulerConstructor = new (config?: Record<string, unknown>) => Scheduler;
