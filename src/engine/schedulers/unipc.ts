// Port of diffusers' UniPCMultistepScheduler (scheduling_unipc_multistep.py): Zhao et al. 2023,
// "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of Diffusion Models". Each step
// first corrects the previous prediction with the new model output (UniC), then predicts the next
// sample (UniP); both use the B(h) coefficient family (bh1: B(h) = h, bh2: B(h) = e^h − 1).
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
import {
  MULTISTEP_BETA_SCHEDULES,
  dataPrediction,
  multistepPlan,
  solveLinearSystem,
} from './multistepShared';
import type { Scheduler, StepResult, TimestepSpacing } from './types';

export type UniPCConfig = {
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
  /** Run the solver on the data prediction x_0 (UniPC's default) rather than on the noise. */
  predict_x0: boolean;
  solver_type: 'bh1' | 'bh2';
  lower_order_final: boolean;
  /** Step indices whose following corrector is skipped (helps large guidance scales). */
  disable_corrector: number[];
  /** Another scheduler to use as the predictor ("solver_p + UniC"); null for UniP. */
  solver_p: Scheduler | null;
  use_karras_sigmas: boolean;
  use_exponential_sigmas: boolean;
  use_beta_sigmas: boolean;
  use_flow_sigmas: boolean;
  flow_shift: number;
  timestep_spacing: TimestepSpacing;
  steps_offset: number;
  final_sigmas_type: 'zero' | 'sigma_min';
  rescale_betas_zero_snr: boolean;
  /** Only read when set_timesteps receives `mu`, which this interface has no argument for. */
  use_dynamic_shifting: boolean;
  time_shift_type: 'exponential';
};

export const UNIPC_DEFAULTS: UniPCConfig = {
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
  predict_x0: true,
  solver_type: 'bh2',
  lower_order_final: true,
  disable_corrector: [],
  solver_p: null,
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  use_flow_sigmas: false,
  flow_shift: 1.0,
  timestep_spacing: 'linspace',
  steps_offset: 0,
  final_sigmas_type: 'zero',
  rescale_betas_zero_snr: false,
  use_dynamic_shifting: false,
  time_shift_type: 'exponential',
};

function normaliseUniPCConfig(config: UniPCConfig): UniPCConfig {
  const out = { ...config, disable_corrector: [...config.disable_corrector] };
  const solver = out.solver_type as string;
  if (solver !== 'bh1' && solver !== 'bh2') {
    // diffusers maps the other DPM-family solver names onto bh2 (register_to_config).
    if (['midpoint', 'heun', 'logrho'].includes(solver)) out.solver_type = 'bh2';
    else throw new Error(`${solver} is not implemented for UniPCMultistepScheduler`);
  }
  if (out.trained_betas == null && !MULTISTEP_BETA_SCHEDULES.includes(out.beta_schedule)) {
    throw new Error(`${String(out.beta_schedule)} is not implemented for UniPCMultistepScheduler`);
  }
  checkSigmaKinds(out);
  return out;
}

/** The B(h) system of one UniP/UniC update (shared by both; diffusers repeats it inline). */
interface BhCoefficients {
  /** h as the solver integrates it: −h for the data prediction, h for the noise prediction. */
  hh: number;
  /** h·φ_1(h) = e^hh − 1. */
  hPhi1: number;
  bH: number;
  /** R[k][j] = rks[j]^k, k = 0..order−1. */
  R: number[][];
  b: number[];
}

function bhCoefficients(
  h: number,
  rks: number[],
  order: number,
  predictX0: boolean,
  solverType: 'bh1' | 'bh2',
): BhCoefficients {
  const hh = predictX0 ? -h : h;
  const hPhi1 = Math.expm1(hh);
  let hPhiK = hPhi1 / hh - 1;
  let factorial = 1;
  const bH = solverType === 'bh1' ? hh : Math.expm1(hh);
  const R: number[][] = [];
  const b: number[] = [];
  for (let k = 1; k <= order; k++) {
    R.push(rks.map((r) => r ** (k - 1)));
    b.push((hPhiK * factorial) / bH);
    factorial *= k + 1;
    hPhiK = hPhiK / hh - 1 / factorial;
  }
  return { hh, hPhi1, bH, R, b };
}

/** einsum("k,bkc...->bc...", rhos, D1s): Σ_k rhos[k] · D1s[k]. */
function weightedSum(rhos: number[], d1s: Tensor[]): Tensor {
  let acc = d1s[0].mul(Math.fround(rhos[0]));
  for (let k = 1; k < d1s.length; k++) acc = acc.add(d1s[k].mul(Math.fround(rhos[k])));
  return acc;
}

export class UniPCMultistepScheduler implements Scheduler {
  readonly className = 'UniPCMultistepScheduler';
  readonly config: Readonly<UniPCConfig>;
  readonly order = 1;
  readonly initNoiseSigma = 1.0;
  readonly predictX0: boolean;
  timesteps: Float32Array;
  sigmas: Float32Array;
  numInferenceSteps: number | null = null;
  lowerOrderNums = 0;
  /** The order of the last predictor, which the next step's corrector reuses. */
  thisOrder = 0;
  private readonly tables: DpmTrainingTables;
  /** Converted model outputs (x_0 or ε) of the last solver_order steps. */
  private readonly modelOutputs: TensorHistory;
  private timestepList: number[] = [];
  /** The (corrected) sample the last predictor started from: UniC's x_{t−1}. */
  private lastSample: Tensor | null = null;
  private stepIndexValue: number | null = null;
  private beginIndexValue: number | null = null;

  constructor(config?: Record<string, unknown>) {
    this.config = normaliseUniPCConfig(withDefaults(UNIPC_DEFAULTS, config));
    this.predictX0 = this.config.predict_x0;
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
    const c = this.config;
    const plan = multistepPlan(c, this.tables, numInferenceSteps, c.final_sigmas_type);
    this.timesteps = plan.timesteps;
    this.sigmas = plan.sigmas;
    this.numInferenceSteps = plan.timesteps.length;
    this.modelOutputs.clear();
    this.timestepList = [];
    this.lowerOrderNums = 0;
    this.setLastSample(null);
    c.solver_p?.setTimesteps(this.numInferenceSteps);
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
    const c = this.config;
    const useCorrector = i > 0 && !c.disable_corrector.includes(i - 1) && this.lastSample !== null;

    const result = tf.tidy(() => {
      const { x0, converted } = this.convertModelOutput(modelOutput, sample, i);
      let current = sample;
      if (useCorrector) {
        current = this.correctorUpdate(converted, this.lastSample as Tensor, this.thisOrder);
      }
      this.modelOutputs.push(converted);
      this.timestepList.push(timestep);
      if (this.timestepList.length > c.solver_order) this.timestepList.shift();

      let order = c.solver_order;
      if (c.lower_order_final) order = Math.min(c.solver_order, this.timesteps.length - i);
      this.thisOrder = Math.min(order, this.lowerOrderNums + 1); // warm-up of the multistep
      if (!(this.thisOrder > 0)) throw new Error('UniPC: step called past the end of the plan');

      this.setLastSample(current);
      // The predictor gets the raw model output, in case solver_p is used.
      const prevSample = this.predictorUpdate(modelOutput, current, this.thisOrder);
      return x0 ? { prevSample, predOriginalSample: x0 } : { prevSample };
    });

    if (this.lowerOrderNums < c.solver_order) this.lowerOrderNums += 1;
    this.stepIndexValue = i + 1;
    return result;
  }

  addNoise(originalSamples: Tensor, noise: Tensor, timestep: number): Tensor {
    return addNoiseForPlan(this, originalSamples, noise, timestep, this.config.use_flow_sigmas);
  }

  dispose(): void {
    this.modelOutputs.clear();
    this.setLastSample(null);
  }

  private initStepIndex(timestep: number): void {
    this.stepIndexValue = this.beginIndexValue ?? indexForTimestepOrLast(timestep, this.timesteps);
  }

  private setLastSample(sample: Tensor | null): void {
    const previous = this.lastSample;
    this.lastSample = sample ? tf.keep(sample.clone()) : null;
    previous?.dispose();
  }

  private alphaSigma(index: number) {
    return sigmaToAlphaSigmaT(this.sigmas[index], this.config.use_flow_sigmas);
  }

  private lambdaAt(index: number): number {
    return lambdaOf(this.alphaSigma(index));
  }

  /**
   * `convert_model_output`: x_0 (thresholded if asked) when predict_x0, else the noise ε.
   * Returns x_0 separately (when it is the solver's variable) for StepResult.predOriginalSample.
   */
  private convertModelOutput(modelOutput: Tensor, sample: Tensor, i: number) {
    const { alphaT, sigmaT } = this.alphaSigma(i);
    const c = this.config;
    if (this.predictX0) {
      let x0 = dataPrediction(
        c.prediction_type,
        modelOutput,
        sample,
        alphaT,
        sigmaT,
        this.sigmas[i],
      );
      if (c.thresholding)
        x0 = thresholdSample(x0, c.dynamic_thresholding_ratio, c.sample_max_value);
      return { x0, converted: x0.clone() };
    }
    let converted: Tensor;
    if (c.prediction_type === 'epsilon') converted = modelOutput.clone();
    else if (c.prediction_type === 'sample') {
      converted = sample.sub(modelOutput.mul(alphaT)).div(sigmaT);
    } else if (c.prediction_type === 'v_prediction') {
      converted = modelOutput.mul(alphaT).add(sample.mul(sigmaT));
    } else {
      throw new Error(
        `prediction_type given as ${c.prediction_type} must be one of \`epsilon\`, \`sample\`, or \`v_prediction\` for the UniPCMultistepScheduler.`,
      );
    }
    return { x0: null, converted };
  }

  /** `multistep_uni_p_bh_update`: UniP-p from sigma[i] to sigma[i+1] (or solver_p's step). */
  private predictorUpdate(modelOutput: Tensor, sample: Tensor, order: number): Tensor {
    const solverP = this.config.solver_p;
    if (solverP) {
      const s0 = this.timestepList[this.timestepList.length - 1];
      const out = solverP.step(modelOutput, s0, sample);
      out.predOriginalSample?.dispose();
      return out.prevSample;
    }
    const i = this.stepIndexValue as number;
    const t = this.alphaSigma(i + 1);
    const s0 = this.alphaSigma(i);
    const lambdaS0 = lambdaOf(s0);
    const h = lambdaOf(t) - lambdaS0;
    const m0 = this.modelOutputs.fromNewest(0);

    const rks: number[] = [];
    const d1s: Tensor[] = [];
    for (let k = 1; k < order; k++) {
      const rk = (this.lambdaAt(i - k) - lambdaS0) / h;
      rks.push(rk);
      d1s.push(this.modelOutputs.fromNewest(k).sub(m0).div(rk));
    }
    rks.push(1.0);
    const { hPhi1, bH, R, b } = bhCoefficients(
      h,
      rks,
      order,
      this.predictX0,
      this.config.solver_type,
    );

    let rhosP: number[] = [];
    if (d1s.length > 0) {
      // Order 2 uses the simplified rho = 1/2; higher orders solve the (order−1)² system.
      if (order === 2) rhosP = [0.5];
      else
        rhosP = solveLinearSystem(
          R.slice(0, -1).map((row) => row.slice(0, -1)),
          b.slice(0, -1),
        );
    }

    // diffusers multiplies its scalar pred_res = 0 through too (NaN when B(h) is infinite).
    const [scale, base] = this.predictX0
      ? [t.alphaT, sample.mul(t.sigmaT / s0.sigmaT).sub(m0.mul(t.alphaT * hPhi1))]
      : [t.sigmaT, sample.mul(t.alphaT / s0.alphaT).sub(m0.mul(t.sigmaT * hPhi1))];
    if (d1s.length === 0) return base.sub(scale * bH * 0);
    return base.sub(weightedSum(rhosP, d1s).mul(scale * bH));
  }

  /**
   * `multistep_uni_c_bh_update`: UniC-p, re-solving the last step sigma[i−1] -> sigma[i] with the
   * new model output `modelT` included; returns the corrected sample at sigma[i].
   */
  private correctorUpdate(modelT: Tensor, lastSample: Tensor, order: number): Tensor {
    const i = this.stepIndexValue as number;
    const t = this.alphaSigma(i);
    const s0 = this.alphaSigma(i - 1);
    const lambdaS0 = lambdaOf(s0);
    const h = lambdaOf(t) - lambdaS0;
    const m0 = this.modelOutputs.fromNewest(0);

    const rks: number[] = [];
    const d1s: Tensor[] = [];
    for (let k = 1; k < order; k++) {
      const rk = (this.lambdaAt(i - (k + 1)) - lambdaS0) / h;
      rks.push(rk);
      d1s.push(this.modelOutputs.fromNewest(k).sub(m0).div(rk));
    }
    rks.push(1.0);
    const { hPhi1, bH, R, b } = bhCoefficients(
      h,
      rks,
      order,
      this.predictX0,
      this.config.solver_type,
    );
    // Order 1 uses the simplified rho = 1/2.
    const rhosC = order === 1 ? [0.5] : solveLinearSystem(R, b);

    const [scale, base] = this.predictX0
      ? [t.alphaT, lastSample.mul(t.sigmaT / s0.sigmaT).sub(m0.mul(t.alphaT * hPhi1))]
      : [t.sigmaT, lastSample.mul(t.alphaT / s0.alphaT).sub(m0.mul(t.sigmaT * hPhi1))];
    const d1t = modelT.sub(m0).mul(Math.fround(rhosC[rhosC.length - 1]));
    const correction = d1s.length > 0 ? weightedSum(rhosC.slice(0, -1), d1s).add(d1t) : d1t;
    return base.sub(correction.mul(scale * bH));
  }
}
