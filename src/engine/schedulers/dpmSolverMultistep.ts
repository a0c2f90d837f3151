// DPMSolverMultistepScheduler: a port of diffusers' scheduling_dpmsolver_multistep.py.
// DPM-Solver (Lu et al. 2022, arXiv:2206.00927) and DPM-Solver++ (Lu et al. 2022,
// arXiv:2211.01095) as linear multistep methods in lambda = log(alpha_t / sigma_t), plus their SDE
// variants. Orders 1-3; the first steps run at lower order until enough history exists.
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
  type DpmAlgorithm,
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
  luLadder,
  normalizeAlgorithm,
  normalizeSolverType,
  type SigmaLadder,
  sigmaToAlphaSigmaT,
  spacedTimesteps,
  toInt64Timesteps,
  withFinalSigma,
} from './dpmShared';
import type { Scheduler, StepOptions, StepResult, TimestepSpacing } from './types';

export interface DPMSolverMultistepConfig {
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
  algorithm_type: DpmAlgorithm;
  solver_type: 'midpoint' | 'heun';
  lower_order_final: boolean;
  euler_at_final: boolean;
  use_karras_sigmas: boolean;
  use_exponential_sigmas: boolean;
  use_beta_sigmas: boolean;
  use_lu_lambdas: boolean;
  use_flow_sigmas: boolean;
  flow_shift: number;
  final_sigmas_type: 'zero' | 'sigma_min';
  lambda_min_clipped: number;
  variance_type: 'learned' | 'learned_range' | null;
  timestep_spacing: TimestepSpacing;
  steps_offset: number;
  rescale_betas_zero_snr: boolean;
  use_dynamic_shifting: boolean;
  time_shift_type: 'exponential';
}

export const DPM_SOLVER_MULTISTEP_DEFAULTS: DPMSolverMultistepConfig = {
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
  lower_order_final: true,
  euler_at_final: false,
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  use_lu_lambdas: false,
  use_flow_sigmas: false,
  flow_shift: 1.0,
  final_sigmas_type: 'zero',
  lambda_min_clipped: -Infinity,
  variance_type: null,
  timestep_spacing: 'linspace',
  steps_offset: 0,
  rescale_betas_zero_snr: false,
  use_dynamic_shifting: false,
  time_shift_type: 'exponential',
};

/** Extra arguments of diffusers' set_timesteps beyond the step count. */
export interface DpmSetTimestepsOptions {
  /** Custom integer timesteps (then numInferenceSteps is ignored and the plan is interpolated). */
  timesteps?: number[];
  /** Dynamic shifting exponent: flow_shift becomes exp(mu) (use_dynamic_shifting). */
  mu?: number;
}

export class DPMSolverMultistepScheduler implements Scheduler {
  readonly className = 'DPMSolverMultistepScheduler';
  readonly order = 1;
  readonly initNoiseSigma = 1.0;
  private readonly cfg: DPMSolverMultistepConfig;
  private readonly tables: DpmTrainingTables;
  timesteps: Float32Array;
  sigmas: Float32Array;
  numInferenceSteps: number | null = null;
  private modelOutputs: TensorHistory;
  private lowerOrderNums = 0;
  private _stepIndex: number | null = null;
  private _beginIndex: number | null = null;

  constructor(config?: Record<string, unknown>) {
    const cfg = withDefaults(DPM_SOLVER_MULTISTEP_DEFAULTS, config);
    checkBetaSchedule(cfg);
    checkSigmaKinds(cfg);
    cfg.algorithm_type = normalizeAlgorithm(cfg.algorithm_type, [
      'dpmsolver',
      'dpmsolver++',
      'sde-dpmsolver',
      'sde-dpmsolver++',
    ]);
    cfg.solver_type = normalizeSolverType(cfg.solver_type);
    if (!cfg.algorithm_type.endsWith('dpmsolver++') && cfg.final_sigmas_type === 'zero') {
      throw new Error(
        `\`final_sigmas_type\` zero is not supported for \`algorithm_type\` ${cfg.algorithm_type}. Please choose \`sigma_min\` instead.`,
      );
    }
    this.cfg = cfg;
    this.tables = dpmTrainingTables(cfg);
    // Before set_timesteps: every training timestep, descending, over the training sigma table.
    const n = cfg.num_train_timesteps;
    this.timesteps = Float32Array.from({ length: n }, (_, i) => n - 1 - i);
    this.sigmas = this.tables.sigmas.slice();
    this.modelOutputs = new TensorHistory(cfg.solver_order);
  }

  get config(): Readonly<DPMSolverMultistepConfig> {
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
      throw new Error('Must pass exactly one of `num_inference_steps` or `timesteps`.');
    }
    if (custom && (cfg.use_karras_sigmas || cfg.use_lu_lambdas || cfg.use_exponential_sigmas)) {
      throw new Error('Cannot use custom `timesteps` with karras, lu or exponential sigmas.');
    }
    if (custom && cfg.use_beta_sigmas) {
      throw new Error('Cannot set `timesteps` with `config.use_beta_sigmas = True`.');
    }

    let timesteps: number[];
    if (custom) {
      timesteps = custom.map(Math.trunc);
    } else {
      const lastTimestep =
        cfg.num_train_timesteps - clippedIndex(this.tables.lambdaT, cfg.lambda_min_clipped);
      timesteps = spacedTimesteps({
        spacing: cfg.timestep_spacing,
        numInferenceSteps: numInferenceSteps as number,
        lastTimestep,
        numTrainTimesteps: cfg.num_train_timesteps,
        stepsOffset: cfg.steps_offset,
      });
    }
    const steps = numInferenceSteps ?? timesteps.length;

    let sigmas: number[];
    const ladder = this.sigmaLadder(steps);
    if (ladder) {
      sigmas = ladder.sigmas;
      // Karras and Lu timesteps are rounded except for the cosine schedule; the others are
      // truncated by the int64 cast below, exactly as diffusers does.
      const round =
        (cfg.use_karras_sigmas || cfg.use_lu_lambdas) && cfg.beta_schedule !== 'squaredcos_cap_v2';
      timesteps = round ? ladder.timesteps.map(roundHalfEven) : ladder.timesteps;
    } else {
      sigmas = interpolatedSigmas(timesteps, this.tables.sigmas);
    }

    this.sigmas = withFinalSigma(
      sigmas,
      finalSigma(cfg.final_sigmas_type, this.tables.alphasCumprod),
    );
    this.timesteps = toInt64Timesteps(timesteps);
    this.numInferenceSteps = this.timesteps.length;
    this.modelOutputs.clear();
    this.modelOutputs = new TensorHistory(cfg.solver_order);
    this.lowerOrderNums = 0;
    this._stepIndex = null;
    this._beginIndex = null;
  }

  /** The converted sigma ladder the config asks for, or null for the plain interpolated table. */
  private sigmaLadder(steps: number): SigmaLadder | null {
    const cfg = this.cfg;
    if (cfg.use_karras_sigmas) return karrasLadder(this.tables, steps);
    if (cfg.use_lu_lambdas) return luLadder(this.tables, steps);
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

  /** diffusers' _init_step_index. */
  private initStepIndex(timestep: number): void {
    this._stepIndex = this._beginIndex ?? indexForTimestepOrLast(timestep, this.timesteps);
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
    if (this._stepIndex === null) this.initStepIndex(timestep);
    const cfg = this.cfg;
    const i = this._stepIndex as number;
    const n = this.timesteps.length;

    // Improve numerical stability for small numbers of steps. A final step of zero width
    // (converted ladders end at sigma_min, so final_sigmas_type sigma_min repeats it) is also
    // taken at first order: the higher-order formulas would divide by h = 0 there.
    const lowerOrderFinal =
      i === n - 1 &&
      (cfg.euler_at_final ||
        (cfg.lower_order_final && n < 15) ||
        cfg.final_sigmas_type === 'zero' ||
        this.sigmas[i + 1] === this.sigmas[i]);
    const lowerOrderSecond = i === n - 2 && cfg.lower_order_final && n < 15;

    const converted = convertDpmModelOutput(modelOutput, sample, this.sigmas[i], cfg);
    this.modelOutputs.push(converted);

    const isSde = cfg.algorithm_type.startsWith('sde-');
    const noise = isSde ? drawSdeNoise(converted.shape, options) : null;

    let prevSample: Tensor;
    if (cfg.solver_order === 1 || this.lowerOrderNums < 1 || lowerOrderFinal) {
      prevSample = this.firstOrderUpdate(converted, sample, noise?.tensor ?? null);
    } else if (cfg.solver_order === 2 || this.lowerOrderNums < 2 || lowerOrderSecond) {
      prevSample = this.secondOrderUpdate(sample, noise?.tensor ?? null);
    } else {
      prevSample = this.thirdOrderUpdate(sample, noise?.tensor ?? null);
    }
    noise?.dispose();

    if (this.lowerOrderNums < cfg.solver_order) this.lowerOrderNums += 1;
    this._stepIndex = i + 1;

    // For DPM-Solver++ the converted output is the model's x_0 estimate: hand it out.
    if (cfg.algorithm_type.endsWith('dpmsolver++')) {
      return { prevSample, predOriginalSample: converted };
    }
    converted.dispose();
    return { prevSample };
  }

  /** dpm_solver_first_order_update from the current step (shared with the other DPM solver). */
  private firstOrderUpdate(m0: Tensor, sample: Tensor, noise: Tensor | null): Tensor {
    const i = this._stepIndex as number;
    const t = this.alphaSigma(i + 1);
    const s = this.alphaSigma(i);
    return dpmFirstOrderUpdate(this.cfg.algorithm_type, t, s, m0, sample, noise);
  }

  /** multistep_dpm_solver_second_order_update. */
  private secondOrderUpdate(sample: Tensor, noise: Tensor | null): Tensor {
    const i = this._stepIndex as number;
    const t = this.alphaSigma(i + 1);
    const s0 = this.alphaSigma(i);
    const s1 = this.alphaSigma(i - 1);
    const m0 = this.modelOutputs.fromNewest(0);
    const m1 = this.modelOutputs.fromNewest(1);
    const lambdaT = lambdaOf(t);
    const lambdaS0 = lambdaOf(s0);
    const h = lambdaT - lambdaS0;
    const h0 = lambdaS0 - lambdaOf(s1);
    const r0 = h0 / h;
    const { alphaT, sigmaT } = t;
    const { solver_type: solverType } = this.cfg;
    return tf.tidy(() => {
      const D0 = m0;
      const D1 = tf.mul(tf.sub(m0, m1), 1.0 / r0);
      switch (this.cfg.algorithm_type) {
        case 'dpmsolver++': {
          // See arXiv:2211.01095 for the derivations.
          const a = alphaT * (Math.exp(-h) - 1.0);
          const d1 =
            solverType === 'midpoint' ? -0.5 * a : alphaT * ((Math.exp(-h) - 1.0) / h + 1.0);
          return combine([
            [sigmaT / s0.sigmaT, sample],
            [-a, D0],
            [d1, D1],
          ]);
        }
        case 'dpmsolver': {
          // See arXiv:2206.00927 for the derivations.
          const a = sigmaT * (Math.exp(h) - 1.0);
          const d1 =
            solverType === 'midpoint' ? -0.5 * a : -(sigmaT * ((Math.exp(h) - 1.0) / h - 1.0));
          return combine([
            [alphaT / s0.alphaT, sample],
            [-a, D0],
            [d1, D1],
          ]);
        }
        case 'sde-dpmsolver++': {
          const a = alphaT * (1 - Math.exp(-2.0 * h));
          const d1 =
            solverType === 'midpoint'
              ? 0.5 * a
              : alphaT * ((1.0 - Math.exp(-2.0 * h)) / (-2.0 * h) + 1.0);
          return combine([
            [(sigmaT / s0.sigmaT) * Math.exp(-h), sample],
            [a, D0],
            [d1, D1],
            [sigmaT * Math.sqrt(1.0 - Math.exp(-2 * h)), requireNoise(noise)],
          ]);
        }
        case 'sde-dpmsolver': {
          const a = sigmaT * (Math.exp(h) - 1.0);
          const d1 =
            solverType === 'midpoint' ? -a : -2.0 * (sigmaT * ((Math.exp(h) - 1.0) / h - 1.0));
          return combine([
            [alphaT / s0.alphaT, sample],
            [-2.0 * a, D0],
            [d1, D1],
            [sigmaT * Math.sqrt(Math.exp(2 * h) - 1.0), requireNoise(noise)],
          ]);
        }
      }
    });
  }

  /** multistep_dpm_solver_third_order_update (dpmsolver, dpmsolver++ and sde-dpmsolver++). */
  private thirdOrderUpdate(sample: Tensor, noise: Tensor | null): Tensor {
    const i = this._stepIndex as number;
    const t = this.alphaSigma(i + 1);
    const s0 = this.alphaSigma(i);
    const s1 = this.alphaSigma(i - 1);
    const s2 = this.alphaSigma(i - 2);
    const m0 = this.modelOutputs.fromNewest(0);
    const m1 = this.modelOutputs.fromNewest(1);
    const m2 = this.modelOutputs.fromNewest(2);
    const [lambdaT, lambdaS0, lambdaS1, lambdaS2] = [t, s0, s1, s2].map(lambdaOf);
    const h = lambdaT - lambdaS0;
    const h0 = lambdaS0 - lambdaS1;
    const h1 = lambdaS1 - lambdaS2;
    const r0 = h0 / h;
    const r1 = h1 / h;
    const { alphaT, sigmaT } = t;
    return tf.tidy(() => {
      const D0 = m0;
      const D1_0 = tf.mul(tf.sub(m0, m1), 1.0 / r0);
      const D1_1 = tf.mul(tf.sub(m1, m2), 1.0 / r1);
      const diff = tf.sub(D1_0, D1_1);
      const D1 = tf.add(D1_0, tf.mul(diff, r0 / (r0 + r1)));
      const D2 = tf.mul(diff, 1.0 / (r0 + r1));
      switch (this.cfg.algorithm_type) {
        case 'dpmsolver++':
          return combine([
            [sigmaT / s0.sigmaT, sample],
            [-(alphaT * (Math.exp(-h) - 1.0)), D0],
            [alphaT * ((Math.exp(-h) - 1.0) / h + 1.0), D1],
            [-(alphaT * ((Math.exp(-h) - 1.0 + h) / h ** 2 - 0.5)), D2],
          ]);
        case 'dpmsolver':
          return combine([
            [alphaT / s0.alphaT, sample],
            [-(sigmaT * (Math.exp(h) - 1.0)), D0],
            [-(sigmaT * ((Math.exp(h) - 1.0) / h - 1.0)), D1],
            [-(sigmaT * ((Math.exp(h) - 1.0 - h) / h ** 2 - 0.5)), D2],
          ]);
        case 'sde-dpmsolver++':
          return combine([
            [(sigmaT / s0.sigmaT) * Math.exp(-h), sample],
            [alphaT * (1.0 - Math.exp(-2.0 * h)), D0],
            [alphaT * ((1.0 - Math.exp(-2.0 * h)) / (-2.0 * h) + 1.0), D1],
            [alphaT * ((1.0 - Math.exp(-2.0 * h) - 2.0 * h) / (2.0 * h) ** 2 - 0.5), D2],
            [sigmaT * Math.sqrt(1.0 - Math.exp(-2 * h)), requireNoise(noise)],
          ]);
        case 'sde-dpmsolver':
          // diffusers has no third-order sde-dpmsolver formula and returns None here.
          throw new Error('solver_order 3 is not implemented for algorithm_type sde-dpmsolver');
      }
    });
  }

  addNoise(originalSamples: Tensor, noise: Tensor, timestep: number): Tensor {
    return addNoiseForPlan(this, originalSamples, noise, timestep, this.cfg.use_flow_sigmas);
  }

  dispose(): void {
    this.modelOutputs.clear();
  }
}
