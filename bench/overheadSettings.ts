// The run the engine-overhead measurement steps: DPM++ 2M, guidance 2 (so every model call is the
// doubled CFG batch) and an inpainting mask, i.e. everything the engine adds around the model.
import type { RunSettings } from '../src/engine/run/settings';

/** Long enough that a measurement never reaches the end of the plan. */
export const OVERHEAD_PLAN_STEPS = 200;

export function overheadSettings(images: number, size: number): RunSettings {
  // Keep the left half of a ramp source, re-imagine the right half (a feathered edge).
  const pixels = new Float32Array(size * size).map((_, i) => ((i % size) / size) * 2 - 1);
  const mask = new Float32Array(size * size).map((_, i) =>
    Math.min(1, Math.max(0, (i % size) - size / 2 + 1) / 2),
  );
  return {
    sampler: 'DPM++ 2M',
    steps: OVERHEAD_PLAN_STEPS,
    spacing: null,
    sigmaSchedule: 'default',
    guidanceScale: 2,
    eta: 0,
    classes: Array.from({ length: images }, (_, i) => i % 10),
    seeds: Array.from({ length: images }, (_, i) => 1000 + i),
    inpaint: { pixels, mask },
    img2img: null,
  };
}
