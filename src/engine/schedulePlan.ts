// What a sampler will do, as numbers the UI can plot: the training-time noise tables and the
// timesteps/sigmas the chosen scheduler visits. Built with the real schedulers, not a re-derivation.
import { makeNoiseTables, logSnr, type BetaScheduleName } from './schedule/betas';
import { createScheduler } from './schedulers';
import { findSamplerPreset } from './samplerPresets';
import type { TimestepSpacing } from './schedulers/types';

export interface SchedulePlanRequest {
  sampler: string;
  steps: number;
  betaSchedule: BetaScheduleName;
  timestepSpacing: TimestepSpacing;
  karras: boolean;
  numTrainTimesteps?: number;
}

export interface SchedulePlan {
  schedulerClass: string;
  /** Full scheduler config after defaults, diffusers keys. */
  config: Record<string, unknown>;
  alphasCumprod: number[];
  logSnr: number[];
  /** Timesteps visited, in order (may repeat for second-order solvers). */
  timesteps: number[];
  /** Sigmas visited (k-diffusion style schedulers only). */
  sigmas: number[] | null;
  modelCallsPerRun: number;
}

export function buildSchedulePlan(request: SchedulePlanRequest): SchedulePlan {
  const preset = findSamplerPreset(request.sampler);
  if (!preset) throw new Error(`Unknown sampler '${request.sampler}'`);
  if (!Number.isInteger(request.steps) || request.steps < 1 || request.steps > 1000) {
    throw new Error(`Steps must be a whole number from 1 to 1000, got ${request.steps}`);
  }
  const numTrainTimesteps = request.numTrainTimesteps ?? 1000;
  const config: Record<string, unknown> = {
    num_train_timesteps: numTrainTimesteps,
    beta_schedule: request.betaSchedule,
    timestep_spacing: request.timestepSpacing,
    ...preset.config,
  };
  if (request.karras) config.use_karras_sigmas = true;
  const scheduler = createScheduler(preset.scheduler, config);
  try {
    scheduler.setTimesteps(request.steps);
    const tables = makeNoiseTables({
      num_train_timesteps: numTrainTimesteps,
      beta_start: Number(scheduler.config.beta_start ?? 0.0001),
      beta_end: Number(scheduler.config.beta_end ?? 0.02),
      beta_schedule: request.betaSchedule,
      trained_betas: null,
    });
    return {
      schedulerClass: scheduler.className,
      config: { ...scheduler.config },
      alphasCumprod: Array.from(tables.alphasCumprod),
      logSnr: Array.from(logSnr(tables.alphasCumprod)),
      timesteps: Array.from(scheduler.timesteps),
      sigmas: scheduler.sigmas ? Array.from(scheduler.sigmas) : null,
      modelCallsPerRun: scheduler.timesteps.length,
    };
  } finally {
    scheduler.dispose();
  }
}
