// The quality numbers of a trained toy model: the distance (MMD, see mmd.ts) from generated
// samples to held-out data, and the same distance for the Gaussian the samples started from (the
// score of a model that learned nothing), plus the sliced Wasserstein distance as a second view.
import type { Points } from './datasets';
import { slicedWasserstein } from './distance';
import { mmd } from './mmd';
import type { SampleTrajectory } from './toySampler';

export interface DistanceReport {
  distance: number;
  baselineDistance: number;
  slicedWasserstein: number;
  baselineSlicedWasserstein: number;
}

/** MMD is quadratic in the points: this many samples keep it under a second in a worker. */
export const MAX_SCORED_SAMPLES = 2000;

export function distances(trajectory: SampleTrajectory, heldOut: Points): DistanceReport {
  const cap = (points: Points) => points.subarray(0, 2 * MAX_SCORED_SAMPLES);
  const samples = cap(trajectory.frames[trajectory.frames.length - 1]);
  const noise = cap(trajectory.initialNoise);
  const held = cap(heldOut);
  return {
    distance: mmd(samples, held),
    baselineDistance: mmd(noise, held),
    slicedWasserstein: slicedWasserstein(samples, held),
    baselineSlicedWasserstein: slicedWasserstein(noise, held),
  };
}

/** Samples that left the finite numbers (a diverged model) make the distance meaningless. */
export function allFinite(points: Points): boolean {
  for (let i = 0; i < points.length; i++) if (!Number.isFinite(points[i])) return false;
  return true;
}

/** The clip range for predicted x_0: a margin beyond the farthest coordinate of the data. */
export function x0ClipRange(data: Points): number {
  let max = 0;
  for (let i = 0; i < data.length; i++) max = Math.max(max, Math.abs(data[i]));
  return Math.max(1, 1.2 * max);
}
