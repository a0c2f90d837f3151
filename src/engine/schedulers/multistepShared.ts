// Pieces DEISMultistepScheduler and UniPCMultistepScheduler share beyond dpmShared.ts: their
// (identical) set_timesteps, their data prediction with flow matching, and the small dense linear
// solve UniPC needs for its B(h) coefficients.
import type { Tensor } from '@tensorflow/tfjs-core';
import { betaPpf } from '../schedule/betaPpf';
import { roundHalfEven } from '../schedule/numpy';
import { predictX0 } from './common';
import {
  betaLadder,
  exponentialLadder,
  finalSigma,
  flowLadder,
  interpolatedSigmas,
  karrasLadder,
  spacedTimesteps,
  toInt64Timesteps,
  withFinalSigma,
  type DpmPredictionType,
  type DpmTrainingTables,
  type SigmaLadder,
} from './dpmShared';
import type { TimestepSpacing } from './types';

/** The beta schedules DEIS and UniPC accept (their __init__ raises for any other). */
export const MULTISTEP_BETA_SCHEDULES = ['linear', 'scaled_linear', 'squaredcos_cap_v2'] as const;

/** The config keys both schedulers' set_timesteps reads. */
export interface MultistepPlanConfig {
  num_train_timesteps: number;
  timestep_spacing: TimestepSpacing;
  steps_offset: number;
  use_karras_sigmas: boolean;
  use_exponential_sigmas: boolean;
  use_beta_sigmas: boolean;
  use_flow_sigmas: boolean;
  flow_shift: number;
}

export interface MultistepPlan {
  /** int64 timesteps as diffusers stores them (float32 holds them exactly). */
  timesteps: Float32Array;
  /** One sigma per timestep plus the final one, float32. */
  sigmas: Float32Array;
}

/**
 * diffusers' DEIS/UniPC `set_timesteps`: spaced integer timesteps, or a Karras / exponential /
 * beta / flow sigma ladder whose timesteps come from `_sigma_to_t` (Karras rounds them, the others
 * are truncated by the int64 cast). DEIS always appends the table's smallest sigma (Karras & co.:
 * the ladder's last sigma again), which is UniPC's `final_sigmas_type = "sigma_min"`.
 */
export function multistepPlan(
  config: MultistepPlanConfig,
  tables: DpmTrainingTables,
  numInferenceSteps: number,
  finalSigmasType: 'zero' | 'sigma_min',
): MultistepPlan {
  const n = config.num_train_timesteps;
  const spaced = spacedTimesteps({
    spacing: config.timestep_spacing,
    numInferenceSteps,
    lastTimestep: n,
    numTrainTimesteps: n,
    stepsOffset: config.steps_offset,
  });
  let ladder: SigmaLadder | null = null;
  if (config.use_karras_sigmas) {
    const karras = karrasLadder(tables, numInferenceSteps);
    ladder = { sigmas: karras.sigmas, timesteps: karras.timesteps.map(roundHalfEven) };
  } else if (config.use_exponential_sigmas) {
    ladder = exponentialLadder(tables, numInferenceSteps);
  } else if (config.use_beta_sigmas) {
    // scipy.stats.beta.ppf with diffusers' alpha = beta = 0.6.
    ladder = betaLadder(tables, numInferenceSteps, betaPpf);
  } else if (config.use_flow_sigmas) {
    ladder = flowLadder(n, numInferenceSteps, config.flow_shift);
  }
  // Also raises diffusers' error for an unknown final_sigmas_type, whichever branch is taken.
  const tableFinalSigma = finalSigma(finalSigmasType, tables.alphasCumprod);
  if (ladder) {
    const last = finalSigmasType === 'sigma_min' ? ladder.sigmas[ladder.sigmas.length - 1] : 0;
    return {
      timesteps: toInt64Timesteps(ladder.timesteps),
      sigmas: withFinalSigma(ladder.sigmas, last),
    };
  }
  return {
    timesteps: toInt64Timesteps(spaced),
    sigmas: withFinalSigma(interpolatedSigmas(spaced, tables.sigmas), tableFinalSigma),
  };
}

/**
 * The data prediction x_0 of `convert_model_output`. flow_prediction (rectified flow, the model
 * predicts noise - x_0) uses the raw sigma: x_0 = x - sigma · v.
 */
export function dataPrediction(
  predictionType: DpmPredictionType,
  modelOutput: Tensor,
  sample: Tensor,
  alphaT: number,
  sigmaT: number,
  sigma: number,
): Tensor {
  if (predictionType === 'flow_prediction') return sample.sub(modelOutput.mul(sigma));
  return predictX0(predictionType, modelOutput, sample, alphaT, sigmaT);
}

/**
 * Solves A x = b by Gaussian elimination with partial pivoting (the LU factorisation LAPACK's
 * gesv, hence torch.linalg.solve, uses). A is n×n given as rows; neither argument is modified.
 */
export function solveLinearSystem(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => {
    if (row.length !== n) throw new Error('solveLinearSystem: matrix must be square');
    return [...row, b[i]];
  });
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) {
      if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    }
    if (m[pivot][col] === 0) throw new Error('solveLinearSystem: the matrix is singular');
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = col + 1; r < n; r++) {
      const factor = m[r][col] / m[col][col];
      for (let c = col; c <= n; c++) m[r][c] -= factor * m[col][c];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let acc = m[r][n];
    for (let c = r + 1; c < n; c++) acc -= m[r][c] * x[c];
    x[r] = acc / m[r][r];
  }
  return x;
}
