// PNDMScheduler: a line-by-line port of diffusers' scheduling_pndm.py (Liu et al. 2022, "Pseudo
// Numerical Methods for Diffusion Models on Manifolds", arXiv:2202.09778): F-PNDM, i.e. three
// Runge-Kutta warm-up steps (12 model calls) followed by 4th-order linear multistep (PLMS) steps,
// both applied through the transfer formula (9). With skip_prk_steps it is crowsonkb's PLMS
// sampler (CompVis/latent-diffusion#51), the variant Stable Diffusion pipelines use.
//
// Like diffusers, PNDM tracks its place with `counter`, not by timestep value; diffusers' PNDM
// has no set_begin_index and does not compute pred_original_sample.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { BetaScheduleName } from '../schedule/betas';
import { f32 } from '../schedule/numpy';
import { TensorHistory, withDefaults } from './common';
import { addNoiseAlphaProd, alphaProdAt, alphaTables, spacedTimesteps, sqrt32 } from './ddpm';
import type { PredictionType, Scheduler, StepResult, TimestepSpacing } from './types';

export type PNDMConfig = {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: BetaScheduleName;
  trained_betas: number[] | null;
  skip_prk_steps: boolean;
  set_alpha_to_one: boolean;
  prediction_type: Exclude<PredictionType, 'sample'>;
  timestep_spacing: TimestepSpacing;
  steps_offset: number;
};

export const PNDM_DEFAULTS: PNDMConfig = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  skip_prk_steps: false,
  set_alpha_to_one: false,
  prediction_type: 'epsilon',
  timestep_spacing: 'leading',
  steps_offset: 0,
};

const PNDM_SCHEDULES: readonly BetaScheduleName[] = [
  'linear',
  'scaled_linear',
  'squaredcos_cap_v2',
];

/** PNDM's linear multistep method is 4th order: it needs the last four model outputs. */
const PNDM_ORDER = 4;

export class PNDMScheduler implements Scheduler {
  readonly className = 'PNDMScheduler';
  readonly config: Readonly<PNDMConfig>;
  readonly order = 1;
  readonly initNoiseSigma = 1.0;
  readonly sigmas = null;
  readonly pndmOrder = PNDM_ORDER;
  readonly betas: Float32Array;
  readonly alphas: Float32Array;
  readonly alphasCumprod: Float32Array;
  /** alphā used "before" timestep 0 on the last step: 1 (set_alpha_to_one) or alphā_0. */
  readonly finalAlphaCumprod: number;

  private _timesteps = new Float32Array(0);
  private _prkTimesteps = new Float32Array(0);
  private _plmsTimesteps = new Float32Array(0);
  private _numInferenceSteps: number | null = null;
  private beginIndex = 0;

  // Running values of diffusers' PNDMScheduler.
  /** Model calls so far since set_timesteps (diffusers' `counter`). */
  private counter = 0;
  /** Runge-Kutta weighted sum of the model outputs of the current step (`cur_model_output`). */
  private curModelOutput: Tensor | null = null;
  /** x_t at the start of the current Runge-Kutta / first PLMS step (`cur_sample`). */
  private curSample: Tensor | null = null;
  /** Model outputs e_theta of earlier steps (`ets`); the multistep formula uses the last four. */
  private readonly ets = new TensorHistory(PNDM_ORDER);

  constructor(config?: Record<string, unknown>) {
    this.config = withDefaults(PNDM_DEFAULTS, config);
    const tables = alphaTables(this.config, this.className, PNDM_SCHEDULES);
    this.betas = tables.betas;
    this.alphas = tables.alphas;
    this.alphasCumprod = tables.alphasCumprod;
    this.finalAlphaCumprod = this.config.set_alpha_to_one ? 1.0 : this.alphasCumprod[0];
  }

  /** All model-call timesteps: prkTimesteps then plmsTimesteps (empty before setTimesteps). */
  get timesteps(): Float32Array {
    return this._timesteps;
  }

  /** Runge-Kutta warm-up timesteps: 4 model calls per step for the first 3 steps. */
  get prkTimesteps(): Float32Array {
    return this._prkTimesteps;
  }

  /** Linear multistep timesteps, one model call each. */
  get plmsTimesteps(): Float32Array {
    return this._plmsTimesteps;
  }

  get numInferenceSteps(): number | null {
    return this._numInferenceSteps;
  }

  get stepIndex(): number | null {
    return this.beginIndex + this.counter;
  }

  setTimesteps(numInferenceSteps: number): void {
    const numTrain = this.config.num_train_timesteps;
    if (!(numInferenceSteps >= 1)) {
      throw new Error(
        `\`num_inference_steps\` must be a positive integer, got ${numInferenceSteps}`,
      );
    }
    if (!this.config.skip_prk_steps && numInferenceSteps < PNDM_ORDER) {
      throw new Error(
        `\`num_inference_steps\` must be >= ${PNDM_ORDER} when \`skip_prk_steps=False\`, got ${numInferenceSteps}.`,
      );
    }
    this._numInferenceSteps = numInferenceSteps;
    // diffusers' ascending `_timesteps`: for every spacing, DDIM's descending list reversed.
    const ascending = spacedTimesteps(
      this.config.timestep_spacing,
      numTrain,
      numInferenceSteps,
      this.config.steps_offset,
    ).reverse();

    let prk: number[];
    let plms: number[];
    if (this.config.skip_prk_steps) {
      // PLMS without warm-up: the second-to-last timestep is repeated, because the second model
      // call re-evaluates the first step (a Heun-like correction, see stepPlms).
      prk = [];
      plms = [
        ...ascending.slice(0, -1),
        ...ascending.slice(-2, -1),
        ...ascending.slice(-1),
      ].reverse();
    } else {
      // The last four timesteps, each followed by its half-step midpoint, then every point but the
      // last doubled and the ends trimmed: t, t-h/2, t-h/2, t-h for each of three RK steps.
      const half = Math.floor(Math.floor(numTrain / numInferenceSteps) / 2);
      const withMidpoints = ascending.slice(-PNDM_ORDER).flatMap((t) => [t, t + half]);
      prk = withMidpoints
        .slice(0, -1)
        .flatMap((t) => [t, t])
        .slice(1, -1)
        .reverse();
      plms = ascending.slice(0, -3).reverse();
    }
    this._prkTimesteps = Float32Array.from(prk);
    this._plmsTimesteps = Float32Array.from(plms);
    this._timesteps = Float32Array.from([...prk, ...plms]);
    this.resetRunningValues();
  }

  /**
   * diffusers' PNDM has no set_begin_index: started part-way, it runs its counter from 0 exactly as
   * diffusers' img2img pipelines do. The index only offsets `stepIndex`.
   */
  setBeginIndex(beginIndex: number): void {
    this.beginIndex = beginIndex;
  }

  scaleModelInput(sample: Tensor): Tensor {
    return sample.clone();
  }

  /** Runge-Kutta steps for the first 4 * 3 model calls, linear multistep afterwards. */
  step(modelOutput: Tensor, timestep: number, sample: Tensor): StepResult {
    if (this.counter < this._prkTimesteps.length && !this.config.skip_prk_steps) {
      return this.stepPrk(modelOutput, timestep, sample);
    }
    return this.stepPlms(modelOutput, timestep, sample);
  }

  /**
   * One of the four model calls of a 4th-order Runge-Kutta step (PNDM paper, formulas (12)-(13)):
   * calls 1-3 move from the step's start x_t to t - h/2, t - h/2 and t - h with the latest slope;
   * call 4 moves to t - h with the weighted slope (e1 + 2 e2 + 2 e3 + e4) / 6.
   */
  stepPrk(modelOutput: Tensor, timestep: number, sample: Tensor): StepResult {
    const numInferenceSteps = this.requireNumInferenceSteps();
    const halfStep = Math.floor(
      Math.floor(this.config.num_train_timesteps / numInferenceSteps) / 2,
    );
    const diffToPrev = this.counter % 2 ? 0 : halfStep;
    const prevTimestep = timestep - diffToPrev;
    const stepStart = this._prkTimesteps[Math.floor(this.counter / 4) * 4];
    if (stepStart === undefined) throw new Error('stepPrk called past the Runge-Kutta timesteps');

    const phase = this.counter % 4;
    let slope: Tensor = modelOutput;
    let ownedSlope: Tensor | null = null;
    if (phase === 0) {
      this.accumulate(modelOutput, 1 / 6);
      this.ets.push(modelOutput);
      this.setCurSample(sample);
    } else if (phase === 1 || phase === 2) {
      this.accumulate(modelOutput, 1 / 3);
    } else {
      ownedSlope = tf.tidy(() => {
        const last = modelOutput.mul(1 / 6);
        return this.curModelOutput ? this.curModelOutput.add(last) : last;
      });
      slope = ownedSlope;
      this.curModelOutput?.dispose();
      this.curModelOutput = null;
    }

    // cur_sample should not be `None`
    const start = this.curSample ?? sample;
    const prevSample = this.getPrevSample(start, stepStart, prevTimestep, slope);
    ownedSlope?.dispose();
    this.counter += 1;
    return { prevSample };
  }

  /**
   * A linear multistep step (PNDM formula (12) with Adams-Bashforth weights): the slope is an
   * extrapolation of the last 1-4 model outputs. Without Runge-Kutta warm-up, the first two calls
   * form one Heun-like step: the second call re-evaluates the first step with the averaged slope.
   */
  stepPlms(modelOutput: Tensor, timestep: number, sample: Tensor): StepResult {
    const numInferenceSteps = this.requireNumInferenceSteps();
    if (!this.config.skip_prk_steps && this.ets.length < 3) {
      throw new Error(
        `${this.className} can only be run AFTER scheduler has been run in 'prk' mode for at least 12 iterations.`,
      );
    }
    const stride = Math.floor(this.config.num_train_timesteps / numInferenceSteps);
    let prevTimestep = timestep - stride;
    let current = timestep;
    if (this.counter !== 1) {
      this.ets.push(modelOutput); // keeps the last four, as `ets[-3:] + [model_output]`
    } else {
      prevTimestep = timestep;
      current = timestep + stride;
    }

    let start = sample;
    let usedCurSample: Tensor | null = null;
    const e = (i: number) => this.ets.fromNewest(i);
    const slope = tf.tidy(() => {
      const n = this.ets.length;
      if (n === 1 && this.counter === 0) return modelOutput.clone();
      if (n === 1 && this.counter === 1) return modelOutput.add(e(0)).div(2);
      if (n === 2) return e(0).mul(3).sub(e(1)).div(2);
      if (n === 3) return e(0).mul(23).sub(e(1).mul(16)).add(e(2).mul(5)).div(12);
      return e(0)
        .mul(55)
        .sub(e(1).mul(59))
        .add(e(2).mul(37))
        .sub(e(3).mul(9))
        .mul(1 / 24);
    });
    if (this.ets.length === 1 && this.counter === 0) {
      this.setCurSample(sample);
    } else if (this.ets.length === 1 && this.counter === 1) {
      if (!this.curSample) throw new Error('stepPlms: missing the sample of the first step');
      start = this.curSample;
      usedCurSample = this.curSample;
      this.curSample = null;
    }

    const prevSample = this.getPrevSample(start, current, prevTimestep, slope);
    slope.dispose();
    usedCurSample?.dispose();
    this.counter += 1;
    return { prevSample };
  }

  addNoise(originalSamples: Tensor, noise: Tensor, timestep: number): Tensor {
    return addNoiseAlphaProd(this.alphasCumprod, originalSamples, noise, timestep);
  }

  dispose(): void {
    this.resetRunningValues();
  }

  /**
   * _get_prev_sample: the transfer x_t -> x_{t-delta} of PNDM formula (9),
   *   x_prev = sqrt(ā_prev / ā_t) x_t
   *            - (ā_prev - ā_t) e / (ā_t sqrt(1 - ā_prev) + sqrt(ā_t (1 - ā_t) ā_prev)).
   */
  private getPrevSample(
    sample: Tensor,
    timestep: number,
    prevTimestep: number,
    modelOutput: Tensor,
  ): Tensor {
    const alphaProdT = alphaProdAt(this.alphasCumprod, timestep);
    const alphaProdTPrev =
      prevTimestep >= 0 ? alphaProdAt(this.alphasCumprod, prevTimestep) : this.finalAlphaCumprod;
    const betaProdT = f32(1 - alphaProdT);
    const betaProdTPrev = f32(1 - alphaProdTPrev);
    const type = this.config.prediction_type;
    if (type !== 'epsilon' && type !== 'v_prediction') {
      throw new Error(
        `prediction_type given as ${String(type)} must be one of \`epsilon\` or \`v_prediction\``,
      );
    }
    const sampleCoeff = sqrt32(f32(alphaProdTPrev / alphaProdT));
    const modelOutputDenomCoeff = f32(
      f32(alphaProdT * sqrt32(betaProdTPrev)) +
        sqrt32(f32(f32(alphaProdT * betaProdT) * alphaProdTPrev)),
    );
    const alphaDiff = f32(alphaProdTPrev - alphaProdT);
    return tf.tidy(() => {
      // v-prediction -> epsilon: e = sqrt(ā_t) v + sqrt(1 - ā_t) x_t
      const eps =
        type === 'v_prediction'
          ? modelOutput.mul(sqrt32(alphaProdT)).add(sample.mul(sqrt32(betaProdT)))
          : modelOutput;
      return sample.mul(sampleCoeff).sub(eps.mul(alphaDiff).div(modelOutputDenomCoeff));
    });
  }

  private requireNumInferenceSteps(): number {
    if (this._numInferenceSteps == null) {
      throw new Error(
        "Number of inference steps is 'None', you need to run 'set_timesteps' after creating the scheduler",
      );
    }
    return this._numInferenceSteps;
  }

  /** cur_model_output += weight * model_output (starting from 0). */
  private accumulate(modelOutput: Tensor, weight: number): void {
    const previous = this.curModelOutput;
    this.curModelOutput = tf.keep(
      tf.tidy(() => {
        const term = modelOutput.mul(weight);
        return previous ? previous.add(term) : term;
      }),
    );
    previous?.dispose();
  }

  private setCurSample(sample: Tensor): void {
    this.curSample?.dispose();
    this.curSample = tf.keep(sample.clone());
  }

  /** set_timesteps resets ets, counter and cur_model_output (cur_sample is rewritten before use). */
  private resetRunningValues(): void {
    this.ets.clear();
    this.counter = 0;
    this.curModelOutput?.dispose();
    this.curModelOutput = null;
    this.curSample?.dispose();
    this.curSample = null;
  }
}
