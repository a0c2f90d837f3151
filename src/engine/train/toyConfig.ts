// What a toy training run is made of, with defaults and checks, in plain TypeScript (the page
// validates settings with it before sending them to the training worker).
import type { BetaScheduleName } from '../schedule/betas';
import { findSamplerPreset } from '../samplerPresets';

export const TOY_BETA_SCHEDULES = [
  'linear',
  'squaredcos_cap_v2',
  'scaled_linear',
  'sigmoid',
] as const;
export type ToyBetaSchedule = (typeof TOY_BETA_SCHEDULES)[number] & BetaScheduleName;

export const TOY_BETA_LABELS: Record<ToyBetaSchedule, string> = {
  linear: 'Linear',
  squaredcos_cap_v2: 'Cosine',
  scaled_linear: 'Scaled linear',
  sigmoid: 'Sigmoid',
};

/** diffusers' names: "sample" is x_0 prediction. */
export const TOY_PREDICTIONS = ['epsilon', 'v_prediction', 'sample'] as const;
export type ToyPrediction = (typeof TOY_PREDICTIONS)[number];

export const TOY_PREDICTION_LABELS: Record<ToyPrediction, string> = {
  epsilon: 'epsilon',
  v_prediction: 'v',
  sample: 'x_0',
};

export interface ToyModelConfig {
  numTrainTimesteps: number;
  betaSchedule: ToyBetaSchedule;
  prediction: ToyPrediction;
  /** Hidden width of the MLP. */
  width: number;
  /** Residual blocks. */
  depth: number;
  /** Sinusoidal features per input coordinate and for the time. */
  embeddingSize: number;
}

export interface ToyTrainConfig {
  learningRate: number;
  batchSize: number;
  seed: number;
  /** Decay of the moving average of the weights that sampling uses (0: sample the raw weights). */
  emaDecay: number;
}

export const DEFAULT_MODEL_CONFIG: ToyModelConfig = {
  numTrainTimesteps: 100,
  betaSchedule: 'linear',
  prediction: 'epsilon',
  width: 128,
  depth: 3,
  embeddingSize: 32,
};

export const DEFAULT_TRAIN_CONFIG: ToyTrainConfig = {
  emaDecay: 0.995,
  learningRate: 1e-3,
  batchSize: 256,
  seed: 1,
};

export const LIMITS = {
  numTrainTimesteps: [10, 1000],
  width: [8, 512],
  depth: [1, 8],
  embeddingSize: [4, 64],
  learningRate: [1e-6, 10],
  batchSize: [8, 2048],
  emaDecay: [0, 0.9999],
} as const;

/**
 * diffusers' keys for the noise schedule. The linear betas scale with 1000 / T (DDPM's 1e-4..0.02
 * at T = 1000), so a short chain still ends in (almost) pure noise.
 */
export function toyScheduleConfig(config: ToyModelConfig): Record<string, unknown> {
  const perStep = 1000 / config.numTrainTimesteps;
  return {
    num_train_timesteps: config.numTrainTimesteps,
    beta_schedule: config.betaSchedule,
    beta_start: Math.min(1e-4 * perStep, 0.5),
    beta_end: Math.min(0.02 * perStep, 0.999),
    trained_betas: null,
    prediction_type: config.prediction,
    // The data has unit variance and reaches beyond [-1, 1]: no clipping of predicted x_0.
    clip_sample: false,
    thresholding: false,
    timestep_spacing: 'trailing',
  };
}

function checkRange(
  problems: string[],
  label: string,
  value: number,
  [lo, hi]: readonly [number, number],
) {
  if (!Number.isFinite(value) || value < lo || value > hi) {
    problems.push(`${label} must be between ${lo} and ${hi} (got ${value})`);
  }
}

/** Every problem with a configuration, in words; empty when it is usable. */
export function configProblems(model: ToyModelConfig, train: ToyTrainConfig): string[] {
  const problems: string[] = [];
  checkRange(problems, 'Timesteps', model.numTrainTimesteps, LIMITS.numTrainTimesteps);
  checkRange(problems, 'Width', model.width, LIMITS.width);
  checkRange(problems, 'Depth', model.depth, LIMITS.depth);
  checkRange(problems, 'Embedding size', model.embeddingSize, LIMITS.embeddingSize);
  checkRange(problems, 'Learning rate', train.learningRate, LIMITS.learningRate);
  checkRange(problems, 'Batch size', train.batchSize, LIMITS.batchSize);
  checkRange(problems, 'Weight EMA', train.emaDecay, LIMITS.emaDecay);
  for (const [label, v] of [
    ['Timesteps', model.numTrainTimesteps],
    ['Width', model.width],
    ['Depth', model.depth],
    ['Batch size', train.batchSize],
  ] as const) {
    if (!Number.isInteger(v)) problems.push(`${label} must be a whole number (got ${v})`);
  }
  if (model.embeddingSize % 2 !== 0)
    problems.push('Embedding size must be even (sine and cosine pairs)');
  if (!(TOY_BETA_SCHEDULES as readonly string[]).includes(model.betaSchedule)) {
    problems.push(`unknown beta schedule '${model.betaSchedule}'`);
  }
  if (!(TOY_PREDICTIONS as readonly string[]).includes(model.prediction)) {
    problems.push(`unknown prediction target '${model.prediction}'`);
  }
  return problems;
}

export function samplerProblem(
  sampler: string,
  steps: number,
  config: ToyModelConfig,
): string | null {
  if (!findSamplerPreset(sampler)) return `unknown sampler '${sampler}'`;
  if (!Number.isInteger(steps) || steps < 1 || steps > config.numTrainTimesteps) {
    return `sampling steps must be a whole number from 1 to ${config.numTrainTimesteps} (the training timesteps)`;
  }
  return null;
}
