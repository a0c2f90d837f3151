// The noise tables and set_timesteps math that diffusers' DPM-Solver family shares
// (DPMSolverMultistepScheduler, DPMSolverSinglestepScheduler; DEIS and UniPC build the same tables).
// Each function is a port of the diffusers code it names; the callers decide which pieces their
// set_timesteps uses, because the classes differ in small ways (rounding, final sigma, spacing).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { makeNoiseTables, type NoiseScheduleConfig } from '../schedule/betas';
import { arange, f32, interp, linspace, roundHalfEven } from '../schedule/numpy';
import { exponentialSigmas, karrasSigmas, luLambdas, sigmaToT } from '../schedule/sigmas';
import { thresholdSample } from './common';
import type { PredictionType, StepOptions, TimestepSpacing } from './types';

/** Training-time tables, stored as float32 like diffusers' torch tensors. */
export interface DpmTrainingTables {
  alphasCumprod: Float32Array;
  /** sqrt((1 - alphā) / alphā): the k-diffusion sigma of each training timestep. */
  sigmas: Float32Array;
  /** np.log of the float32 sigma table (float32, as numpy keeps the dtype). */
  logSigmas: Float32Array;
  /** lambda_t = log(alpha_t) - log(sigma_t), the log-SNR per training timestep (float32). */
  lambdaT: Float32Array;
}

/** diffusers' __init__: alphas_cumprod, then alpha_t, sigma_t, lambda_t and sigmas in float32. */
export function dpmTrainingTables(config: NoiseScheduleConfig): DpmTrainingTables {
  const { alphasCumprod } = makeNoiseTables(config);
  const n = alphasCumprod.length;
  const sigmas = new Float32Array(n);
  const logSigmas = new Float32Array(n);
  const lambdaT = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const ac = alphasCumprod[i];
    const oneMinus = f32(1 - ac);
    sigmas[i] = f32(Math.sqrt(f32(oneMinus / ac)));
    logSigmas[i] = f32(Math.log(sigmas[i]));
    const alphaT = f32(Math.sqrt(ac));
    const sigmaT = f32(Math.sqrt(oneMinus));
    lambdaT[i] = f32(f32(Math.log(alphaT)) - f32(Math.log(sigmaT)));
  }
  return { alphasCumprod, sigmas, logSigmas, lambdaT };
}

/**
 * `torch.searchsorted(torch.flip(lambda_t), lambda_min_clipped)`: how many training steps at the
 * noisy end have a log-SNR below the clip (critical for the cosine schedule). Returns clipped_idx.
 */
export function clippedIndex(lambdaT: ArrayLike<number>, lambdaMinClipped: number): number {
  let count = 0;
  // flip(lambda_t) ascends; searchsorted(left) counts the entries strictly below the value.
  for (let i = lambdaT.length - 1; i >= 0 && lambdaT[i] < lambdaMinClipped; i--) count++;
  return count;
}

export interface SpacingOptions {
  spacing: TimestepSpacing;
  numInferenceSteps: number;
  /** num_train_timesteps - clipped_idx (equals num_train_timesteps without clipping). */
  lastTimestep: number;
  numTrainTimesteps: number;
  stepsOffset: number;
}

/**
 * The integer timesteps of DPMSolverMultistepScheduler.set_timesteps for each timestep_spacing
 * (Table 2 of Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are Flawed").
 */
export function spacedTimesteps(o: SpacingOptions): number[] {
  const n = o.numInferenceSteps;
  if (o.spacing === 'linspace') {
    // np.linspace(0, last - 1, n + 1).round()[::-1][:-1]
    return linspace(0, o.lastTimestep - 1, n + 1)
      .map(roundHalfEven)
      .reverse()
      .slice(0, n);
  }
  if (o.spacing === 'leading') {
    const stepRatio = Math.floor(o.lastTimestep / (n + 1));
    return arange(0, n + 1)
      .map((i) => roundHalfEven(i * stepRatio))
      .reverse()
      .slice(0, n)
      .map((t) => t + o.stepsOffset);
  }
  if (o.spacing === 'trailing') {
    const stepRatio = o.numTrainTimesteps / n;
    // np.arange(last, 0, -ratio).round() - 1
    return arange(o.lastTimestep, 0, -stepRatio).map((t) => roundHalfEven(t) - 1);
  }
  throw new Error(
    `${String(o.spacing)} is not supported. Please make sure to choose one of 'linspace', 'leading' or 'trailing'.`,
  );
}

/** `np.interp(timesteps, arange(len(sigmas)), sigmas)`: the table's sigma at each timestep. */
export function interpolatedSigmas(
  timesteps: ArrayLike<number>,
  table: ArrayLike<number>,
): number[] {
  const xp = arange(0, table.length);
  return Array.from(timesteps, (t) => interp(t, xp, table));
}

/** A sigma ladder of a named kind (descending) and the fractional training timestep of each. */
export interface SigmaLadder {
  sigmas: number[];
  /** Unrounded (fractional) timesteps, from diffusers' `_sigma_to_t` or the flow formula. */
  timesteps: number[];
}

/** `_convert_to_karras` over the flipped table (sigma_min/sigma_max = the table's ends). */
export function karrasLadder(tables: DpmTrainingTables, numInferenceSteps: number): SigmaLadder {
  const { sigmas: table, logSigmas } = tables;
  const sigmas = karrasSigmas(table[0], table[table.length - 1], numInferenceSteps);
  return { sigmas, timesteps: sigmas.map((s) => sigmaToT(s, logSigmas)) };
}

/** `_convert_to_exponential`: uniform in log sigma between the table's ends. */
export function exponentialLadder(
  tables: DpmTrainingTables,
  numInferenceSteps: number,
): SigmaLadder {
  const { sigmas: table, logSigmas } = tables;
  const sigmas = exponentialSigmas(table[0], table[table.length - 1], numInferenceSteps);
  return { sigmas, timesteps: sigmas.map((s) => sigmaToT(s, logSigmas)) };
}

/**
 * `_convert_to_lu` (Lu et al. 2022): uniform steps in log sigma = -lambda between the ends of
 * the flipped log-sigma table; sigma = exp(lambda) as diffusers writes it.
 */
export function luLadder(tables: DpmTrainingTables, numInferenceSteps: number): SigmaLadder {
  const { logSigmas } = tables;
  const lambdas = luLambdas(logSigmas[0], logSigmas[logSigmas.length - 1], numInferenceSteps);
  const sigmas = lambdas.map(Math.exp);
  return { sigmas, timesteps: sigmas.map((s) => sigmaToT(s, logSigmas)) };
}

/**
 * `_convert_to_beta` (Lee et al. 2024, "Beta Sampling is All You Need"): sigma_min +
 * ppf(1 - r) * (sigma_max - sigma_min) for r = linspace(0, 1, n), with the Beta(alpha, beta) ppf
 * passed in (scipy.stats.beta.ppf in diffusers).
 */
export function betaLadder(
  tables: DpmTrainingTables,
  numInferenceSteps: number,
  ppf: (q: number, alpha: number, beta: number) => number,
  alpha = 0.6,
  beta = 0.6,
): SigmaLadder {
  const { sigmas: table, logSigmas } = tables;
  const sigmaMin = table[0];
  const sigmaMax = table[table.length - 1];
  const sigmas = linspace(0, 1, numInferenceSteps).map(
    (r) => sigmaMin + ppf(1 - r, alpha, beta) * (sigmaMax - sigmaMin),
  );
  return { sigmas, timesteps: sigmas.map((s) => sigmaToT(s, logSigmas)) };
}

/**
 * Flow-matching sigmas (use_flow_sigmas): 1 - linspace(1, 1/T, n + 1), shifted by
 * shift·s / (1 + (shift - 1)·s), flipped, last dropped; timesteps = sigma · T.
 */
export function flowLadder(
  numTrainTimesteps: number,
  numInferenceSteps: number,
  flowShift: number,
): SigmaLadder {
  const raw = linspace(1, 1 / numTrainTimesteps, numInferenceSteps + 1).map((a) => 1 - a);
  const shifted = raw.map((s) => (flowShift * s) / (1 + (flowShift - 1) * s));
  const sigmas = shifted.reverse().slice(0, numInferenceSteps);
  return { sigmas, timesteps: sigmas.map((s) => s * numTrainTimesteps) };
}

/** The sigma appended after the last step: the training table's smallest sigma, or zero. */
export function finalSigma(type: 'zero' | 'sigma_min', alphasCumprod: ArrayLike<number>): number {
  if (type === 'sigma_min') {
    const ac = alphasCumprod[0];
    return f32(Math.sqrt(f32(f32(1 - ac) / ac)));
  }
  if (type === 'zero') return 0;
  throw new Error(
    `\`final_sigmas_type\` must be one of 'zero', or 'sigma_min', but got ${String(type)}`,
  );
}

/** `torch.from_numpy(timesteps).to(torch.int64)`: truncation toward zero, stored as float32. */
export function toInt64Timesteps(timesteps: ArrayLike<number>): Float32Array {
  return Float32Array.from(timesteps, (t) => Math.trunc(t));
}

/** `np.concatenate([sigmas, [last]]).astype(np.float32)`. */
export function withFinalSigma(sigmas: ArrayLike<number>, last: number): Float32Array {
  const out = new Float32Array(sigmas.length + 1);
  out.set(Array.from(sigmas));
  out[sigmas.length] = last;
  return out;
}

export interface AlphaSigma {
  alphaT: number;
  sigmaT: number;
}

/**
 * `_sigma_to_alpha_sigma_t`: the VP pair for a k-diffusion sigma, alpha_t = 1/sqrt(sigma² + 1),
 * sigma_t = sigma·alpha_t; for flow sigmas alpha_t = 1 - sigma, sigma_t = sigma (clamped at 1e-8
 * as newer diffusers does, so the final zero sigma gives a finite log-SNR).
 */
export function sigmaToAlphaSigmaT(sigma: number, useFlowSigmas = false): AlphaSigma {
  if (useFlowSigmas) return { alphaT: 1 - sigma, sigmaT: Math.max(sigma, 1e-8) };
  const alphaT = 1 / Math.sqrt(sigma * sigma + 1);
  return { alphaT, sigmaT: sigma * alphaT };
}

/** lambda = log(alpha_t) - log(sigma_t), the half log-SNR DPM-Solver steps in. */
export function lambdaOf({ alphaT, sigmaT }: AlphaSigma): number {
  return Math.log(alphaT) - Math.log(sigmaT);
}

/**
 * diffusers' DPM `index_for_timestep`: first match, the second one if the value repeats, and the
 * last index (not an error) if the timestep is not in the plan.
 */
export function indexForTimestepOrLast(timestep: number, timesteps: ArrayLike<number>): number {
  const t = Math.fround(timestep);
  let first = -1;
  for (let i = 0; i < timesteps.length; i++) {
    if (timesteps[i] !== t) continue;
    if (first >= 0) return i;
    first = i;
  }
  return first >= 0 ? first : timesteps.length - 1;
}

/**
 * `model_output[:, :3]` for variance_type learned/learned_range: keep the mean channels. Like
 * diffusers this slices axis 1 (NCHW); an NHWC model must drop its variance channels itself.
 */
export function dropLearnedVariance(modelOutput: Tensor): Tensor {
  return tf.tidy(() => {
    const begin = modelOutput.shape.map(() => 0);
    const size = modelOutput.shape.map((d, i) => (i === 1 ? Math.min(3, d) : d));
    return tf.slice(modelOutput, begin, size);
  });
}

/** add_noise of the DPM family: alpha_t·x + sigma_t·noise at one sigma of the plan (FORMAT.md §6). */
export function addNoiseAtSigma(
  originalSamples: Tensor,
  noise: Tensor,
  sigma: number,
  useFlowSigmas = false,
): Tensor {
  // diffusers casts the sigma table to the sample dtype (float32) before this arithmetic.
  const { alphaT, sigmaT } = sigmaToAlphaSigmaT(f32(sigma), useFlowSigmas);
  return tf.tidy(() => tf.add(tf.mul(originalSamples, f32(alphaT)), tf.mul(noise, f32(sigmaT))));
}

// ---- Step helpers shared by the multistep and singlestep solvers ----

export type DpmAlgorithm = 'dpmsolver' | 'dpmsolver++' | 'sde-dpmsolver' | 'sde-dpmsolver++';
export type DpmPredictionType = PredictionType | 'flow_prediction';

/** The __init__ checks: 'deis' maps to dpmsolver++ (for from_config switching), others throw. */
export function normalizeAlgorithm(type: string, supported: readonly DpmAlgorithm[]): DpmAlgorithm {
  if ((supported as readonly string[]).includes(type)) return type as DpmAlgorithm;
  if (type === 'deis') return 'dpmsolver++';
  throw new Error(`${type} is not implemented for the DPM-Solver schedulers`);
}

/** The __init__ check: DEIS/UniPC solver types map to midpoint, unknown ones throw. */
export function normalizeSolverType(type: string): 'midpoint' | 'heun' {
  if (type === 'midpoint' || type === 'heun') return type;
  if (type === 'logrho' || type === 'bh1' || type === 'bh2') return 'midpoint';
  throw new Error(`${type} is not implemented for the DPM-Solver schedulers`);
}

/** The DPM-Solver __init__ raises NotImplementedError for any other beta schedule. */
export function checkBetaSchedule(cfg: { beta_schedule: string; trained_betas: unknown }): void {
  if (cfg.trained_betas != null) return;
  if (!['linear', 'scaled_linear', 'squaredcos_cap_v2'].includes(cfg.beta_schedule)) {
    throw new Error(`${cfg.beta_schedule} is not implemented for the DPM-Solver schedulers`);
  }
}

/** Only one of use_beta_sigmas, use_exponential_sigmas, use_karras_sigmas may be set. */
export function checkSigmaKinds(cfg: {
  use_beta_sigmas: boolean;
  use_exponential_sigmas: boolean;
  use_karras_sigmas: boolean;
}): void {
  const set = [cfg.use_beta_sigmas, cfg.use_exponential_sigmas, cfg.use_karras_sigmas];
  if (set.filter(Boolean).length > 1) {
    throw new Error(
      'Only one of `config.use_beta_sigmas`, `config.use_exponential_sigmas`, `config.use_karras_sigmas` can be used.',
    );
  }
}

export interface DpmOutputConfig {
  algorithm_type: DpmAlgorithm;
  prediction_type: DpmPredictionType;
  thresholding: boolean;
  dynamic_thresholding_ratio: number;
  sample_max_value: number;
  variance_type: 'learned' | 'learned_range' | null;
  use_flow_sigmas: boolean;
}

/**
 * diffusers' convert_model_output: DPM-Solver++ integrates the data prediction x_0, DPM-Solver the
 * noise prediction eps, whatever the model predicts. `sigma` is the plan's sigma at this step.
 */
export function convertDpmModelOutput(
  modelOutput: Tensor,
  sample: Tensor,
  sigma: number,
  cfg: DpmOutputConfig,
): Tensor {
  const { alphaT, sigmaT } = sigmaToAlphaSigmaT(sigma, cfg.use_flow_sigmas);
  const learned = cfg.variance_type === 'learned' || cfg.variance_type === 'learned_range';
  const type = cfg.prediction_type;
  if (cfg.algorithm_type === 'dpmsolver++' || cfg.algorithm_type === 'sde-dpmsolver++') {
    const x0 = tf.tidy(() => {
      if (type === 'epsilon') {
        // DPM-Solver and DPM-Solver++ only need the "mean" output.
        const eps = learned ? dropLearnedVariance(modelOutput) : modelOutput;
        return tf.div(tf.sub(sample, tf.mul(eps, sigmaT)), alphaT);
      }
      if (type === 'sample') return modelOutput.clone();
      if (type === 'v_prediction')
        return tf.sub(tf.mul(sample, alphaT), tf.mul(modelOutput, sigmaT));
      // flow_prediction uses the plan's raw sigma, not the (clamped) sigma_t.
      if (type === 'flow_prediction') return tf.sub(sample, tf.mul(modelOutput, sigma));
      throw new Error(
        `prediction_type given as ${String(type)} must be one of \`epsilon\`, \`sample\`, \`v_prediction\`, or \`flow_prediction\`.`,
      );
    });
    if (!cfg.thresholding) return x0;
    const thresholded = thresholdSample(x0, cfg.dynamic_thresholding_ratio, cfg.sample_max_value);
    x0.dispose();
    return thresholded;
  }
  const eps = tf.tidy(() => {
    if (type === 'epsilon') return learned ? dropLearnedVariance(modelOutput) : modelOutput.clone();
    if (type === 'sample') return tf.div(tf.sub(sample, tf.mul(modelOutput, alphaT)), sigmaT);
    if (type === 'v_prediction') return tf.add(tf.mul(modelOutput, alphaT), tf.mul(sample, sigmaT));
    throw new Error(
      `prediction_type given as ${String(type)} must be one of \`epsilon\`, \`sample\`, or \`v_prediction\`.`,
    );
  });
  if (!cfg.thresholding) return eps;
  // Threshold the implied x_0, then turn it back into eps.
  return tf.tidy(() => {
    const x0 = tf.div(tf.sub(sample, tf.mul(eps, sigmaT)), alphaT);
    const thresholded = thresholdSample(x0, cfg.dynamic_thresholding_ratio, cfg.sample_max_value);
    eps.dispose();
    return tf.div(tf.sub(sample, tf.mul(thresholded, alphaT)), sigmaT);
  });
}

/** Σ c_i·T_i, accumulated left to right like diffusers' `a * x - b * y + ...` expressions. */
export function combine(terms: ReadonlyArray<readonly [number, Tensor]>): Tensor {
  return tf.tidy(() => {
    let acc = tf.mul(terms[0][1], terms[0][0]);
    for (let k = 1; k < terms.length; k++) acc = tf.add(acc, tf.mul(terms[k][1], terms[k][0]));
    return acc;
  });
}

/** Noise for an SDE step: options.varianceNoise (caller-owned), else the generator's draw. */
export function drawSdeNoise(
  shape: number[],
  options: StepOptions,
): { tensor: Tensor; dispose(): void } {
  if (options.varianceNoise) return { tensor: options.varianceNoise, dispose: () => {} };
  // Without a generator diffusers draws from torch's global RNG; ours is tf.randomNormal.
  const tensor = options.generator ? options.generator.randn(shape) : tf.randomNormal(shape);
  return { tensor, dispose: () => tensor.dispose() };
}

/** What add_noise reads from a DPM scheduler to pick its sigma. */
export interface DpmPlanPosition {
  readonly timesteps: Float32Array;
  readonly sigmas: Float32Array;
  readonly stepIndex: number | null;
  readonly beginIndex: number | null;
}

/**
 * diffusers' add_noise of the DPM family: the sigma is found by timestep lookup when no begin index
 * is set (training, or pipelines without set_begin_index), else at the current step (inpainting
 * after the first step) or the begin index (img2img before it).
 */
export function addNoiseForPlan(
  plan: DpmPlanPosition,
  originalSamples: Tensor,
  noise: Tensor,
  timestep: number,
  useFlowSigmas: boolean,
): Tensor {
  let index: number;
  if (plan.beginIndex === null) index = indexForTimestepOrLast(timestep, plan.timesteps);
  else index = plan.stepIndex ?? plan.beginIndex;
  return addNoiseAtSigma(originalSamples, noise, plan.sigmas[index], useFlowSigmas);
}

/** The SDE variants take their noise from the caller; a missing one is a programming error. */
export function requireNoise(noise: Tensor | null): Tensor {
  if (!noise) throw new Error('SDE DPM-Solver step needs noise');
  return noise;
}

/**
 * diffusers' dpm_solver_first_order_update (DDIM-equivalent), shared by the multistep and
 * singlestep solvers: from noise level s to t with the converted model output m0.
 */
export function dpmFirstOrderUpdate(
  algorithm: DpmAlgorithm,
  t: AlphaSigma,
  s: AlphaSigma,
  m0: Tensor,
  sample: Tensor,
  noise: Tensor | null,
): Tensor {
  const h = lambdaOf(t) - lambdaOf(s);
  const { alphaT, sigmaT } = t;
  switch (algorithm) {
    case 'dpmsolver++':
      return combine([
        [sigmaT / s.sigmaT, sample],
        [-(alphaT * (Math.exp(-h) - 1.0)), m0],
      ]);
    case 'dpmsolver':
      return combine([
        [alphaT / s.alphaT, sample],
        [-(sigmaT * (Math.exp(h) - 1.0)), m0],
      ]);
    case 'sde-dpmsolver++':
      return combine([
        [(sigmaT / s.sigmaT) * Math.exp(-h), sample],
        [alphaT * (1 - Math.exp(-2.0 * h)), m0],
        [sigmaT * Math.sqrt(1.0 - Math.exp(-2 * h)), requireNoise(noise)],
      ]);
    case 'sde-dpmsolver':
      return combine([
        [alphaT / s.alphaT, sample],
        [-2.0 * (sigmaT * (Math.exp(h) - 1.0)), m0],
        [sigmaT * Math.sqrt(Math.exp(2 * h) - 1.0), requireNoise(noise)],
      ]);
  }
}
