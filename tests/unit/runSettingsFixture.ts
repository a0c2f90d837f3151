// RunSettings for unit tests: the fields a test cares about, the neutral rest filled in.
import type { RunSettings } from '../../src/engine/run/settings';

type Essentials = Pick<RunSettings, 'sampler' | 'steps' | 'guidanceScale' | 'classes' | 'seeds'>;

/** No spacing or sigma-schedule override, eta 0, no inpainting, no img2img; then `patch`. */
export function runSettings(
  essentials: Essentials & Partial<RunSettings>,
  patch: Partial<RunSettings> = {},
): RunSettings {
  return {
    spacing: null,
    sigmaSchedule: 'default',
    eta: 0,
    inpaint: null,
    img2img: null,
    ...essentials,
    ...patch,
  };
}
