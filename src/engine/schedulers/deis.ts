// Port of diffusers' DEISMultistepScheduler (scheduling_deis_multistep.py): Zhang & Chen 2022,
// "Fast Sampling of Diffusion Models with Exponential Integrator", in diffusers' log-rho variant
// (the noise prediction is fitted by a polynomial in log rho, rho = sigma_t / alpha_t, which gives
// closed-form multistep coefficients). Order 1 is DDIM.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { TensorHistory, thresholdSample, withDefaults } from './common';
import {
  addNoiseForPlan,
  checkSigmaKinds,
  dpmTrainingTables,
  indexForTimestepOrLast,
  lambdaOf,
  sigmaToAlphaSigmaT,
  type DpmPredictionType,
  type DpmTrainingTables,
} from './dpmShared';
import { MULTISTEP_BETA_SCHEDULES, dataPrediction, multistepPlan } from './multistepShared';
import type { Scheduler, StepResult, TimestepSpacing } from './types';

export type DEISConfig = {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: (typeof MULTISTEP_BETA_SCHEDULES)[number];
  trained_betas: number[] | null;
  solver_order: number;
  prediction_type: DpmPredictionType;
  thresholding: boolean;
  dynamic_thresholding_ratio: number;
  sample_max_value: number;
  algorithm_type: 'deis';
  solver_type: 'logrho';
  lower_order_final: boolean;
  use_karras_sigmas: boolean;
  use_exponential_sigmas: boolean;
  use_beta_sigmas: boolean;
  use_flow_sigmas: boolean;
  flow_shift: number;
  timestep_spacing: TimestepSpacing;
  steps_offset: number;
};

export const DEIS_DEFAULTS: DEISConfig = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  solver_order: 2,
  prediction_type: 'epsilon',
  thresholding: false,
  dynamic_thresholding_ratio: 0.995,
  sample_max_value: 1.0,
  algorithm_type: 'deis',
  solver_type: 'logrho',
  lower_order_final: true,
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  use_flow_sigmas: false,
  flow_shift: 1.0,
  timestep_spacing: 'linspace',
  steps_offset: 0,
};

/** diffusers maps the other DPM-family names onto DEIS's only variants (register_to_config). */
function normaliseDeisConfig(config: DEISConfig): DEISConfig {
  const out = { ...config };
  const algorithm = out.algorithm_type as string;
  if (algorithm !== 'deis') {
    if (algorithm === 'dpmsolver' || algorithm === 'dpmsolver++') out.algorithm_type = 'deis';
    else throw new Error(`${algorithm} is not implemented for DEISMultistepScheduler`);
  }
  const solver = out.solver_type as string;
  if (solver !== 'logrho') {
    if (['midpoint', 'heun', 'bh1', 'bh2'].includes(solver)) out.solver_type = 'logrho';
    else throw new Error(`solver type ${solver} is not implemented for DEISMultistepScheduler`);
  }
  if (out.trained_betas == null && !MULTISTEP_BETA_SCHEDULES.includes(out.beta_schedule)) {
    throw new Error(`${String(out.beta_schedule)} is not implemented for DEISMultistepScheduler`);
  }
  checkSigmaKinds(out);
  return out;
}

/** diffusers' `ind_fn` of the 2nd-order update: ∫ (log t − log c)/(log b − log c) dt. */
function integral2(t: number, b: number, c: number): number {
  return (t * (-Math.log(c) + Math.log(t) - 1)) / (Math.log(b) - Math.log(c));
}

/** The 3rd-order `ind_fn`: ∫ (log t − log c)(log t − log d) / ((log b − log c)(log b − log d)) dt. */
function integral3(t: number, b: number, c: number, d: number): number {
  const lt = Math.log(t);
  const lc = Math.log(c);
  const ld = Math.log(d);
  const numerator = t * (lc * (ld - lt + 1) - ld * lt + ld + lt ** 2 - 2 * lt + 2);
  const denominator = (Math.log(b) - lc) * (Math.log(b) - ld);
  return numerator / denominator;
}

export class DEISMultistepScheduler implements Scheduler {
  readonly className = 'DEISMultistepScheduler';
  readonly config: Readonly<DEISConfig>;
  readonly order = 1;
  readonly initNoiseSigma = 1.0;
  timesteps: Float32Array;
  sigmas: Float32Array;
  numInferenceSteps: number | null = null;
  lowerOrderNums = 0;
  private readonly tables: DpmTrainingTables;
  /** Converted model outputs (noise predictions) of the last solver_order steps. */
  private readonly modelOutputs: TensorHistory;
  private stepIndexValue: number | null = null;
  private beginIndexValue: number | null = null;

  constructor(config?: Record<string, unknown>) {
    this.config = normaliseDeisConfig(withDefaults(DEIS_DEFAULTS, config));
    this.tables = dpmTrainingTables(this.config);
    const n = this.config.num_train_timesteps;
    // Before set_timesteps diffusers holds every training step, descending, and the full table.
    this.timesteps = Float32Array.from({ length: n }, (_, i) => n - 1 - i);
    this.sigmas = Float32Array.from(this.tables.sigmas);
    this.modelOutputs = new TensorHistory(this.config.solver_order);
  }

  get stepIndex(): number | null {
    return this.stepIndexValue;
  }

  get beginIndex(): number | null {
    return this.beginIndexValue;
  }

  setBeginIndex(beginIndex = 0): void {
    this.beginIndexValue = beginIndex;
  }

  setTimesteps(numInferenceSteps: number): void {
    const plan = multistepPlan(this.config, this.tables, numInferenceSteps, 'sigma_min');
    this.timesteps = plan.timesteps;
    this.sigmas = plan.sigmas;
    this.numInferenceSteps = plan.timesteps.length;
    this.modelOutputs.clear();
    this.lowerOrderNums = 0;
    this.stepIndexValue = null;
    this.beginIndexValue = null;
  }

  scaleModelInput(sample: Tensor): Tensor {
    return sample.clone();
  }

  step(modelOutput: Tensor, timestep: number, sample: Tensor): StepResult {
    if (this.numInferenceSteps === null) {
      throw new Error(
        "Number of inference steps is 'None', you need to run 'set_timesteps' after creating the scheduler",
      );
    }
    if (this.stepIndexValue === null) this.initStepIndex(timestep);
    const i = this.stepIndexValue as number;
    const n = this.timesteps.length;
    const { solver_order: solverOrder, lower_order_final: lowerFinal } = this.config;
    // "Only valid for < 15 inference steps": stabilises few-step sampling.
    const lowerOrderFinal = i === n - 1 && lowerFinal && n < 15;
    const lowerOrderSecond = i === n - 2 && lowerFinal && n < 15;

    const result = tf.tidy(() => {
      const { x0, noise } = this.convertModelOutput(modelOutput, sample, i);
      this.modelOutputs.push(noise);
      let prevSample: Tensor;
      if (solverOrder === 1 || this.lowerOrderNums < 1 || lowerOrderFinal) {
        prevSample = this.firstOrderUpdate(noise, sample, i);
      } else if (solverOrder === 2 || this.lowerOrderNums < 2 || lowerOrderSecond) {
        prevSample = this.secondOrderUpdate(sample, i);
      } else {
        prevSample = this.thirdOrderUpdate(sample, i);
      }
      return { prevSample, predOriginalSample: x0 };
    });

    if (this.lowerOrderNums < solverOrder) this.lowerOrderNums += 1;
    this.stepIndexValue = i + 1;
    return result;
  }

  addNoise(originalSamples: Tensor, noise: Tensor, timestep: number): Tensor {
    return addNoiseForPlan(this, originalSamples, noise, timestep, this.config.use_flow_sigmas);
  }

  dispose(): void {
    this.modelOutputs.clear();
  }

  private initStepIndex(timestep: number): void {
    this.stepIndexValue = this.beginIndexValue ?? indexForTimestepOrLast(timestep, this.timesteps);
  }

  private alphaSigma(index: number) {
    return sigmaToAlphaSigmaT(this.sigmas[index], this.config.use_flow_sigmas);
  }

  /** `convert_model_output`: x_0 (optionally thresholded), then DEIS's noise prediction from it. */
  private convertModelOutput(modelOutput: Tensor, sample: Tensor, i: number) {
    const { alphaT, sigmaT } = this.alphaSigma(i);
    const c = this.config;
    let x0 = dataPrediction(c.prediction_type, modelOutput, sample, alphaT, sigmaT, this.sigmas[i]);
    if (c.thresholding) x0 = thresholdSample(x0, c.dynamic_thresholding_ratio, c.sample_max_value);
    const noise = sample.sub(x0.mul(alphaT)).div(sigmaT);
    return { x0, noise };
  }

  /** `deis_first_order_update` (DDIM): x_t = (α_t/α_s) x − σ_t (e^h − 1) ε. */
  private firstOrderUpdate(noise: Tensor, sample: Tensor, i: number): Tensor {
    const t = this.alphaSigma(i + 1);
    const s = this.alphaSigma(i);
    const h = lambdaOf(t) - lambdaOf(s);
    return sample.mul(t.alphaT / s.alphaT).sub(noise.mul(t.sigmaT * (Math.exp(h) - 1.0)));
  }

  /** `multistep_deis_second_order_update`: linear fit of ε in log rho through the last two. */
  private secondOrderUpdate(sample: Tensor, i: number): Tensor {
    const t = this.alphaSigma(i + 1);
    const s0 = this.alphaSigma(i);
    const s1 = this.alphaSigma(i - 1);
    const m0 = this.modelOutputs.fromNewest(0);
    const m1 = this.modelOutputs.fromNewest(1);
    const rhoT = t.sigmaT / t.alphaT;
    const rhoS0 = s0.sigmaT / s0.alphaT;
    const rhoS1 = s1.sigmaT / s1.alphaT;
    const coef1 = integral2(rhoT, rhoS0, rhoS1) - integral2(rhoS0, rhoS0, rhoS1);
    const coef2 = integral2(rhoT, rhoS1, rhoS0) - integral2(rhoS0, rhoS1, rhoS0);
    return sample.div(s0.alphaT).add(m0.mul(coef1)).add(m1.mul(coef2)).mul(t.alphaT);
  }

  /** `multistep_deis_third_order_update`: quadratic fit of ε in log rho through the last three. */
  private thirdOrderUpdate(sample: Tensor, i: number): Tensor {
    const t = this.alphaSigma(i + 1);
    const s0 = this.alphaSigma(i);
    const s1 = this.alphaSigma(i - 1);
    const s2 = this.alphaSigma(i - 2);
    const m0 = this.modelOutputs.fromNewest(0);
    const m1 = this.modelOutputs.fromNewest(1);
    const m2 = this.modelOutputs.fromNewest(2);
    const rhoT = t.sigmaT / t.alphaT;
    const rhoS0 = s0.sigmaT / s0.alphaT;
    const rhoS1 = s1.sigmaT / s1.alphaT;
    const rhoS2 = s2.sigmaT / s2.alphaT;
    const coef1 = integral3(rhoT, rhoS0, rhoS1, rhoS2) - integral3(rhoS0, rhoS0, rhoS1, rhoS2);
    const coef2 = integral3(rhoT, rhoS1, rhoS2, rhoS0) - integral3(rhoS0, rhoS1, rhoS2, rhoS0);
    const coef3 = integral3(rhoT, rhoS2, rhoS0, rhoS1) - integral3(rhoS0, rhoS2, rhoS0, rhoS1);
    return sample
      .div(s0.alphaT)
      .add(m0.mul(coef1))
      .add(m1.mul(coef2))
      .add(m2.mul(coef3))
      .mul(t.alphaT);
  }
}
