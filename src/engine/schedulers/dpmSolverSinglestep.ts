// DPMSolverSinglestepScheduler: a port of diffusers' scheduling_dpmsolver_singlestep.py.
// Singlestep DPM-Solver (Lu et al. 2022, arXiv:2206.00927, Algorithms 1-2) and DPM-Solver++
// (arXiv:2211.01095): the plan is cut into groups of 1-3 steps (get_order_list); each group starts
// from the sample at its first timestep and the k-th step of a group is an order-k update from that
// sample, using the model outputs gathered inside the group as intermediate evaluations.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { BetaScheduleName } from '../schedule/betas';
import { betaPpf } from '../schedule/betaPpf';
import { roundHalfEven } from '../schedule/numpy';
import { TensorHistory, withDefaults } from './common';
import {
  dpmFirstOrderUpdate,
  requireNoise,
  addNoiseForPlan,
  type AlphaSigma,
  betaLadder,
  checkBetaSchedule,
  checkSigmaKinds,
  clippedIndex,
  combine,
  convertDpmModelOutput,
  type DpmPredictionType,
  dpmTrainingTables,
  type DpmTrainingTables,
  drawSdeNoise,
  exponentialLadder,
  finalSigma,
  flowLadder,
  indexForTimestepOrLast,
  interpolatedSigmas,
  karrasLadder,
  lambdaOf,
  normalizeAlgorithm,
  normalizeSolverType,
  type SigmaLadder,
  sigmaToAlphaSigmaT,
  spacedTimesteps,
  toInt64Timesteps,
  withFinalSigma,
} from './dpmShared';
import type { DpmSetTimestepsOptions } from './dpmSolverMultistep';
import type { Scheduler, StepOptions, StepResult } from './types';

export interface DPMSolverSinglestepConfig {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: BetaScheduleName;
  trained_betas: number[] | null;
  solver_order: number;
  prediction_type: DpmPredictionType;
  thresholding: boolean;
  dynamic_thresholding_ratio: number;
  sample_max_value: number;
  algorithm_type: 'dpmsolver' | 'dpmsolver++' | 'sde-dpmsolver++';
  solver_type: 'midpoint' | 'heun';
  lower_order_final: boolean;
  use_karras_sigmas: boolean;
  use_exponential_sigmas: boolean;
  use_beta_sigmas: boolean;
  use_flow_sigmas: boolean;
  flow_shift: number;
  final_sigmas_type: 'zero' | 'sigma_min';
  lambda_min_clipped: number;
  variance_type: 'learned' | 'learned_range' | null;
  use_dynamic_shifting: boolean;
  time_shift_type: 'exponential';
}

export const DPM_SOLVER_SINGLESTEP_DEFAULTS: DPMSolverSinglestepConfig = {
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
  algorithm_type: 'dpmsolver++',
  solver_type: 'midpoint',
  lower_order_final: false,
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  use_flow_sigmas: false,
  flow_shift: 1.0,
  final_sigmas_type: 'zero',
  lambda_min_clipped: -Infinity,
  variance_type: null,
  use_dynamic_shifting: false,
  time_shift_type: 'exponential',
};

/**
 * diffusers' get_order_list: the solver order of each step. Groups of [1, 2, 3] (or [1, 2]);
 * with lower_order_final the tail is shortened so the last group ends on the last step, and a
 * zero final sigma forces a first-order last step.
 */
export function dpmSingleStepOrderList(
  steps: number,
  order: number,
  lowerOrderFinal: boolean,
  finalSigmasType: 'zero' | 'sigma_min',
): number[] {
  if (order > 3) throw new Error('Order > 3 is not supported by this scheduler');
  const repeat = (group: number[], times: number): number[] =>
    Array.from({ length: Math.max(0, times) }, () => group).flat();
  let orders: number[];
  if (order === 3) {
    if (!lowerOrderFinal) orders = repeat([1, 2, 3], Math.floor(steps / 3));
    else if (steps % 3 === 0) orders = [...repeat([1, 2, 3], steps / 3 - 1), 1, 2, 1];
    else if (steps % 3 === 1) orders = [...repeat([1, 2, 3], Math.floor(steps / 3)), 1];
    else orders = [...repeat([1, 2, 3], Math.floor(steps / 3)), 1, 2];
  } else if (order === 2) {
    if (!lowerOrderFinal) orders = repeat([1, 2], Math.floor(steps / 2));
    else if (steps % 2 === 0) orders = [...repeat([1, 2], steps / 2 - 1), 1, 1];
    else orders = [...repeat([1, 2], Math.floor(steps / 2)), 1];
  } else {
    orders = repeat([1], steps);
  }
  if (finalSigmasType === 'zero' && orders.length > 0) orders[orders.length - 1] = 1;
  return orders;
}

export class DPMSolverSinglestepScheduler implements Scheduler {
  readonly className = 'DPMSolverSinglestepScheduler';
  readonly order = 1;
  readonly initNoiseSigma = 1.0;
  private readonly cfg: DPMSolverSinglestepConfig;
  private readonly tables: DpmTrainingTables;
  timesteps: Float32Array;
  sigmas: Float32Array;
  numInferenceSteps: number | null = null;
  orderList: number[];
  private modelOutputs: TensorHistory;
  /** The sample at the start of the current group (diffusers' self.sample); owned and kept. */
  private groupSample: Tensor | null = null;
  private _stepIndex: number | null = null;
  private _beginIndex: number | null = null;

  constructor(config?: Record<string, unknown>) {
    const cfg = withDefaults(DPM_SOLVER_SINGLESTEP_DEFAULTS, config);
    checkBetaSchedule(cfg);
    checkSigmaKinds(cfg);
    cfg.algorithm_type = normalizeAlgorithm(cfg.algorithm_type, [
      'dpmsolver',
      'dpmsolver++',
      'sde-dpmsolver++',
    ]) as DPMSolverSinglestepConfig['algorithm_type'];
    cfg.solver_type = normalizeSolverType(cfg.solver_type);
    if (cfg.algorithm_type === 'dpmsolver' && cfg.final_sigmas_type === 'zero') {
      throw new Error(
        '`final_sigmas_type` zero is not supported for `algorithm_type` dpmsolver. Please choose `sigma_min` instead.',
      );
    }
    this.cfg = cfg;
    this.tables = dpmTrainingTables(cfg);
    const n = cfg.num_train_timesteps;
    this.timesteps = Float32Array.from({ length: n }, (_, i) => n - 1 - i);
    this.sigmas = this.tables.sigmas.slice();
    this.modelOutputs = new TensorHistory(cfg.solver_order);
    this.orderList = this.getOrderList(n);
  }

  get config(): Readonly<DPMSolverSinglestepConfig> {
    return this.cfg;
  }

  get stepIndex(): number | null {
    return this._stepIndex;
  }

  get beginIndex(): number | null {
    return this._beginIndex;
  }

  setBeginIndex(beginIndex = 0): void {
    this._beginIndex = beginIndex;
  }

  getOrderList(numInferenceSteps: number): number[] {
    const { solver_order, lower_order_final, final_sigmas_type } = this.cfg;
    return dpmSingleStepOrderList(
      numInferenceSteps,
      solver_order,
      lower_order_final,
      final_sigmas_type,
    );
  }

  setTimesteps(numInferenceSteps: number | null, options: DpmSetTimestepsOptions = {}): void {
    const cfg = this.cfg;
    if (options.mu !== undefined) {
      if (!cfg.use_dynamic_shifting || cfg.time_shift_type !== 'exponential') {
        throw new Error('`mu` needs use_dynamic_shifting and time_shift_type "exponential"');
      }
      cfg.flow_shift = Math.exp(options.mu);
    }
    const custom = options.timesteps;
    if ((numInferenceSteps == null) === (custom == null)) {
      throw new Error('Must pass exactly one of  `num_inference_steps` or `timesteps`.');
    }
    if (custom && (cfg.use_karras_sigmas || cfg.use_exponential_sigmas || cfg.use_beta_sigmas)) {
      throw new Error('Cannot use custom `timesteps` with karras, exponential or beta sigmas.');
    }
    const steps = numInferenceSteps || (custom as number[]).length;
    this.numInferenceSteps = steps;

    // The singlestep scheduler always spaces linearly (it has no timestep_spacing option).
    let timesteps = custom
      ? custom.map(Math.trunc)
      : spacedTimesteps({
          spacing: 'linspace',
          numInferenceSteps: steps,
          lastTimestep:
            cfg.num_train_timesteps - clippedIndex(this.tables.lambdaT, cfg.lambda_min_clipped),
          numTrainTimesteps: cfg.num_train_timesteps,
          stepsOffset: 0,
        });

    let sigmas: number[];
    const ladder = this.sigmaLadder(steps);
    if (ladder) {
      sigmas = ladder.sigmas;
      // Karras timesteps are rounded; the others are truncated by the int64 cast below.
      timesteps = cfg.use_karras_sigmas ? ladder.timesteps.map(roundHalfEven) : ladder.timesteps;
    } else {
      sigmas = interpolatedSigmas(timesteps, this.tables.sigmas);
    }
    this.sigmas = withFinalSigma(
      sigmas,
      finalSigma(cfg.final_sigmas_type, this.tables.alphasCumprod),
    );
    this.timesteps = toInt64Timesteps(timesteps);
    this.modelOutputs.clear();
    this.modelOutputs = new TensorHistory(cfg.solver_order);
    this.setGroupSample(null);

    // diffusers rewrites the config here (with a warning): an uneven step count, or a zero final
    // sigma, needs the shortened tail of lower_order_final.
    if (!cfg.lower_order_final && steps % cfg.solver_order !== 0) cfg.lower_order_final = true;
    if (!cfg.lower_order_final && cfg.final_sigmas_type === 'zero') cfg.lower_order_final = true;
    this.orderList = this.getOrderList(steps);
    this._stepIndex = null;
    this._beginIndex = null;
  }

  private sigmaLadder(steps: number): SigmaLadder | null {
    const cfg = this.cfg;
    if (cfg.use_karras_sigmas) return karrasLadder(this.tables, steps);
    if (cfg.use_exponential_sigmas) return exponentialLadder(this.tables, steps);
    if (cfg.use_beta_sigmas) return betaLadder(this.tables, steps, betaPpf);
    if (cfg.use_flow_sigmas) return flowLadder(cfg.num_train_timesteps, steps, cfg.flow_shift);
    return null;
  }

  scaleModelInput(sample: Tensor): Tensor {
    return sample.clone();
  }

  private alphaSigma(index: number): AlphaSigma {
    return sigmaToAlphaSigmaT(this.sigmas[index], this.cfg.use_flow_sigmas);
  }

  private setGroupSample(sample: Tensor | null): void {
    this.groupSample?.dispose();
    this.groupSample = sample ? tf.keep(sample.clone()) : null;
  }

  step(
    modelOutput: Tensor,
    timestep: number,
    sample: Tensor,
    options: StepOptions = {},
  ): StepResult {
    if (this.numInferenceSteps === null) {
      throw new Error(
        "Number of inference steps is 'None', you need to run 'set_timesteps' after creating the scheduler",
      );
    }
    if (this._stepIndex === null) {
      this._stepIndex = this._beginIndex ?? indexForTimestepOrLast(timestep, this.timesteps);
    }
    const cfg = this.cfg;
    const i = this._stepIndex;

    const converted = convertDpmModelOutput(modelOutput, sample, this.sigmas[i], cfg);
    this.modelOutputs.push(converted);

    const noise =
      cfg.algorithm_type === 'sde-dpmsolver++' ? drawSdeNoise(converted.shape, options) : null;

    // When denoising starts mid-plan (img2img) the first step may be listed at order > 1 without
    // enough outputs in hand: drop to the order the history supports.
    let order = this.orderList[i];
    while (this.modelOutputs.length < order) order -= 1;
    // Each group starts from the sample at its first (order-1) step.
    if (order === 1) this.setGroupSample(sample);
    const start = this.groupSample as Tensor;

    let prevSample: Tensor;
    if (order === 1) prevSample = this.firstOrderUpdate(converted, start, noise?.tensor ?? null);
    else if (order === 2) prevSample = this.secondOrderUpdate(start, noise?.tensor ?? null);
    else if (order === 3) prevSample = this.thirdOrderUpdate(start, noise?.tensor ?? null);
    else throw new Error(`Order must be 1, 2, 3, got ${order}`);
    noise?.dispose();

    this._stepIndex = i + 1;
    if (cfg.algorithm_type === 'dpmsolver') {
      converted.dispose();
      return { prevSample };
    }
    // For DPM-Solver++ the converted output is the model's x_0 estimate: hand it out.
    return { prevSample, predOriginalSample: converted };
  }

  /** dpm_solver_first_order_update from the current step (shared with the other DPM solver). */
  private firstOrderUpdate(m0: Tensor, sample: Tensor, noise: Tensor | null): Tensor {
    const i = this._stepIndex as number;
    const t = this.alphaSigma(i + 1);
    const s = this.alphaSigma(i);
    return dpmFirstOrderUpdate(this.cfg.algorithm_type, t, s, m0, sample, noise);
  }

  /**
   * singlestep_dpm_solver_second_order_update: from the group's start s1 = step i-1 to step i+1,
   * with m1 the output at s1 and m0 the intermediate output at s0 = step i.
   */
  private secondOrderUpdate(sample: Tensor, noise: Tensor | null): Tensor {
    const i = this._stepIndex as number;
    const t = this.alphaSigma(i + 1);
    const s0 = this.alphaSigma(i);
    const s1 = this.alphaSigma(i - 1);
    const m0 = this.modelOutputs.fromNewest(0);
    const m1 = this.modelOutputs.fromNewest(1);
    const lambdaS1 = lambdaOf(s1);
    const h = lambdaOf(t) - lambdaS1;
    const h0 = lambdaOf(s0) - lambdaS1;
    const r0 = h0 / h;
    const { alphaT, sigmaT } = t;
    const midpoint = this.cfg.solver_type === 'midpoint';
    return tf.tidy(() => {
      const D0 = m1;
      const D1 = tf.mul(tf.sub(m0, m1), 1.0 / r0);
      switch (this.cfg.algorithm_type) {
        case 'dpmsolver++': {
          const a = alphaT * (Math.exp(-h) - 1.0);
          const d1 = midpoint ? -0.5 * a : alphaT * ((Math.exp(-h) - 1.0) / h + 1.0);
          return combine([
            [sigmaT / s1.sigmaT, sample],
            [-a, D0],
            [d1, D1],
          ]);
        }
        case 'dpmsolver': {
          const a = sigmaT * (Math.exp(h) - 1.0);
          const d1 = midpoint ? -0.5 * a : -(sigmaT * ((Math.exp(h) - 1.0) / h - 1.0));
          return combine([
            [alphaT / s1.alphaT, sample],
            [-a, D0],
            [d1, D1],
          ]);
        }
        case 'sde-dpmsolver++': {
          const a = alphaT * (1 - Math.exp(-2.0 * h));
          const d1 = midpoint ? 0.5 * a : alphaT * ((1.0 - Math.exp(-2.0 * h)) / (-2.0 * h) + 1.0);
          return combine([
            [(sigmaT / s1.sigmaT) * Math.exp(-h), sample],
            [a, D0],
            [d1, D1],
            [sigmaT * Math.sqrt(1.0 - Math.exp(-2 * h)), requireNoise(noise)],
          ]);
        }
      }
    });
  }

  /**
   * singlestep_dpm_solver_third_order_update: from the group's start s2 = step i-2 to step i+1,
   * with the outputs m2 (at s2), m1 (s1 = i-1) and m0 (s0 = i).
   */
  private thirdOrderUpdate(sample: Tensor, noise: Tensor | null): Tensor {
    const i = this._stepIndex as number;
    const t = this.alphaSigma(i + 1);
    const s0 = this.alphaSigma(i);
    const s1 = this.alphaSigma(i - 1);
    const s2 = this.alphaSigma(i - 2);
    const m0 = this.modelOutputs.fromNewest(0);
    const m1 = this.modelOutputs.fromNewest(1);
    const m2 = this.modelOutputs.fromNewest(2);
    const lambdaS2 = lambdaOf(s2);
    const h = lambdaOf(t) - lambdaS2;
    const h0 = lambdaOf(s0) - lambdaS2;
    const h1 = lambdaOf(s1) - lambdaS2;
    const r0 = h0 / h;
    const r1 = h1 / h;
    const { alphaT, sigmaT } = t;
    const midpoint = this.cfg.solver_type === 'midpoint';
    return tf.tidy(() => {
      const D0 = m2;
      const D1_0 = tf.mul(tf.sub(m1, m2), 1.0 / r1);
      const D1_1 = tf.mul(tf.sub(m0, m2), 1.0 / r0);
      // D1 = (r0·D1_0 - r1·D1_1) / (r0 - r1); D2 = 2·(D1_1 - D1_0) / (r0 - r1)
      const D1 = tf.div(tf.sub(tf.mul(D1_0, r0), tf.mul(D1_1, r1)), r0 - r1);
      const D2 = tf.div(tf.mul(tf.sub(D1_1, D1_0), 2.0), r0 - r1);
      const em = Math.exp(-h);
      const ep = Math.exp(h);
      switch (this.cfg.algorithm_type) {
        case 'dpmsolver++':
          return midpoint
            ? combine([
                [sigmaT / s2.sigmaT, sample],
                [-(alphaT * (em - 1.0)), D0],
                [alphaT * ((em - 1.0) / h + 1.0), D1_1],
              ])
            : combine([
                [sigmaT / s2.sigmaT, sample],
                [-(alphaT * (em - 1.0)), D0],
                [alphaT * ((em - 1.0) / h + 1.0), D1],
                [-(alphaT * ((em - 1.0 + h) / h ** 2 - 0.5)), D2],
              ]);
        case 'dpmsolver':
          return midpoint
            ? combine([
                [alphaT / s2.alphaT, sample],
                [-(sigmaT * (ep - 1.0)), D0],
                [-(sigmaT * ((ep - 1.0) / h - 1.0)), D1_1],
              ])
            : combine([
                [alphaT / s2.alphaT, sample],
                [-(sigmaT * (ep - 1.0)), D0],
                [-(sigmaT * ((ep - 1.0) / h - 1.0)), D1],
                [-(sigmaT * ((ep - 1.0 - h) / h ** 2 - 0.5)), D2],
              ]);
        case 'sde-dpmsolver++': {
          const e2 = Math.exp(-2.0 * h);
          const noiseTerm = [
            sigmaT * Math.sqrt(1.0 - Math.exp(-2 * h)),
            requireNoise(noise),
          ] as const;
          return midpoint
            ? combine([
                [(sigmaT / s2.sigmaT) * em, sample],
                [alphaT * (1.0 - e2), D0],
                [alphaT * ((1.0 - e2) / (-2.0 * h) + 1.0), D1_1],
                noiseTerm,
              ])
            : combine([
                [(sigmaT / s2.sigmaT) * em, sample],
                [alphaT * (1.0 - e2), D0],
                [alphaT * ((1.0 - e2) / (-2.0 * h) + 1.0), D1],
                [alphaT * ((1.0 - e2 + -2.0 * h) / (-2.0 * h) ** 2 - 0.5), D2],
                noiseTerm,
              ]);
        }
      }
    });
  }

  addNoise(originalSamples: Tensor, noise: Tensor, timestep: number): Tensor {
    return addNoiseForPlan(this, originalSamples, noise, timestep, this.cfg.use_flow_sigmas);
  }

  dispose(): void {
    this.modelOutputs.clear();
    this.setGroupSample(null);
  }
}
