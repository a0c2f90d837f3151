// The scheduler a run uses: the model's training schedule (diffusers keys) + the sampler preset +
// the user's spacing and sigma-schedule overrides. One place, so the plotted plan and the run agree.
import { findSamplerPreset } from '../samplerPresets';
import type { SchedulerName } from '../schedulers';
import type { RunSettings } from './settings';

export type PlanSettings = Pick<RunSettings, 'sampler' | 'steps' | 'spacing' | 'sigmaSchedule'> &
  Partial<Pick<RunSettings, 'langevinSteps' | 'langevinSnr'>>;

export function schedulerConfigFor(
  scheduleConfig: Record<string, unknown>,
  settings: Pick<RunSettings, 'sampler' | 'spacing' | 'sigmaSchedule'> &
    Partial<Pick<RunSettings, 'langevinSteps' | 'langevinSnr'>>,
): { scheduler: SchedulerName; config: Record<string, unknown> } {
  const preset = findSamplerPreset(settings.sampler);
  if (!preset) throw new Error(`Unknown sampler '${settings.sampler}'`);
  const config: Record<string, unknown> = { ...scheduleConfig, ...preset.config };
  delete config._class_name;
  if (settings.spacing) config.timestep_spacing = settings.spacing;
  if (preset.scheduler === 'AnnealedLangevinScheduler') {
    // The run's Langevin controls are this sampler's own knobs; with Langevin steps at 0 (the
    // corrector's "off") it keeps its own defaults (ANNEALED_LANGEVIN_DEFAULTS).
    if ((settings.langevinSteps ?? 0) > 0) {
      config.steps_per_level = settings.langevinSteps;
      if (settings.langevinSnr !== undefined) config.snr = settings.langevinSnr;
    }
  }
  if (settings.sigmaSchedule !== 'default') {
    // A chosen schedule replaces the preset's own ("DPM2 Karras" + Exponential is exponential):
    // diffusers refuses a config with more than one of these flags set.
    delete config.use_karras_sigmas;
    delete config.use_exponential_sigmas;
    delete config.use_beta_sigmas;
    if (settings.sigmaSchedule === 'karras') config.use_karras_sigmas = true;
    if (settings.sigmaSchedule === 'exponential') config.use_exponential_sigmas = true;
  }
  return { scheduler: preset.scheduler, config };
}
