// Which KL terms L_t (t = 1 .. T-1) an estimate evaluates. All T-1 is the exact sum; K < T-1
// splits 1 .. T-1 into K contiguous strata of (nearly) equal size and draws one t uniformly in
// each, weighted by its stratum's size: an unbiased estimate of the sum whose variance is only the
// within-stratum spread (L_t changes smoothly with t, so that is small).
import type { Xoshiro128 } from '../gaussian';

export interface WeightedTimestep {
  t: number;
  /** How many terms this one stands for (1 in the exact sum). */
  weight: number;
}

/** The number of KL terms a schedule of `numTimesteps` has (t = 1 .. T-1). */
export const klTermCount = (numTimesteps: number) => numTimesteps - 1;

export function stratifiedTimesteps(
  numTimesteps: number,
  strata: number,
  rng: Xoshiro128,
): WeightedTimestep[] {
  const n = klTermCount(numTimesteps);
  if (!Number.isInteger(strata) || strata < 1)
    throw new Error(`strata must be >= 1, got ${strata}`);
  if (strata >= n) return Array.from({ length: n }, (_, i) => ({ t: i + 1, weight: 1 }));
  const picks: WeightedTimestep[] = [];
  for (let k = 0; k < strata; k++) {
    const lo = Math.floor((k * n) / strata);
    const hi = Math.floor(((k + 1) * n) / strata);
    const size = hi - lo;
    const offset = Math.min(size - 1, Math.floor(rng.nextUniform() * size));
    picks.push({ t: 1 + lo + offset, weight: size });
  }
  return picks;
}
