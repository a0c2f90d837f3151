// The timesteps a run will visit on a given model, as a SchedulePlan the UI can plot. The scheduler
// is configured exactly as DiffusionRun configures its own (model schedule + sampler preset +
// spacing and sigma-schedule overrides), so the plot shows the run's real plan.
import { findSamplerPreset } from '../engine/samplerPresets';
import { logSnr, makeNoiseTables, type NoiseScheduleConfig } from '../engine/schedule/betas';
import type { SchedulePlan } from '../engine/schedulePlan';
import { createScheduler } from '../engine/schedulers';
import type { PlanSettings } from './protocol';

export function runSchedulerConfig(
  scheduleConfig: Record<string, unknown>,
  settings: PlanSettings,
): { scheduler: string; config: Record<string, unknown> } {
  const preset = findSamplerPreset(settings.sampler);
  if (!preset) throw new Error(`Unknown sampler '${settings.sampler}'`);
  const config: Record<string, unknown> = { ...scheduleConfig, ...preset.config };
  delete config._class_name;
  if (settings.spacing) config.timestep_spacing = settings.spacing;
  if (settings.sigmaSchedule === 'karras') config.use_karras_sigmas = true;
  if (settings.sigmaSchedule === 'exponential') config.use_exponential_sigmas = true;
  return { scheduler: preset.scheduler, config };
}

export function buildRunPlan(
  scheduleConfig: Record<string, unknown>,
  settings: PlanSettings,
): SchedulePlan {
  const { scheduler: name, config } = runSchedulerConfig(scheduleConfig, settings);
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
