// What a sampler will do, as numbers the UI can plot: the model's training-time noise tables and
// the timesteps/sigmas the configured scheduler visits. Built with the real schedulers.
import { logSnr, makeNoiseTables, type NoiseScheduleConfig } from './schedule/betas';
import { schedulerConfigFor, type PlanSettings } from './run/schedulerConfig';
import { createScheduler } from './schedulers';

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

/** The plan a run with these settings follows on a model with this training schedule. */
export function buildSchedulePlan(
  scheduleConfig: Record<string, unknown>,
  settings: PlanSettings,
): SchedulePlan {
  const { scheduler: name, config } = schedulerConfigFor(scheduleConfig, settings);
  const scheduler = createScheduler(name, config);
  try {
    scheduler.setTimesteps(settings.steps);
    const tables = makeNoiseTables({
      beta_start: 0.0001,
      beta_end: 0.02,
      trained_betas: null,
      ...scheduleConfig,
    } as NoiseScheduleConfig);
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
