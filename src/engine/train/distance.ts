// Sliced Wasserstein distance between two 2D point clouds, in plain JavaScript. In 2D a fixed
// fan of evenly spaced directions covers the circle better than random ones and needs no seed, so
// the number is deterministic. No kernel or bandwidth to choose (unlike MMD).
import type { Points } from './datasets';

export const DISTANCE_METRIC = 'sliced_wasserstein_2 (128 evenly spaced directions)';
const DIRECTIONS = 128;

/**
 * SW_2 = sqrt(mean over directions of W_2^2 between the 1D projections). Clouds of different
 * sizes are compared through their quantile functions at max(n_a, n_b) levels, so a small
 * held-out set can be scored against many samples without throwing samples away.
 */
export function slicedWasserstein(a: Points, b: Points): number {
  const na = a.length / 2;
  const nb = b.length / 2;
  if (na < 1 || nb < 1) throw new Error('slicedWasserstein needs at least one point in each cloud');
  const levels = Math.max(na, nb);
  const pa = new Float64Array(na);
  const pb = new Float64Array(nb);
  let total = 0;
  for (let k = 0; k < DIRECTIONS; k++) {
    const angle = (Math.PI * k) / DIRECTIONS;
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    for (let i = 0; i < na; i++) pa[i] = a[2 * i] * c + a[2 * i + 1] * s;
    for (let i = 0; i < nb; i++) pb[i] = b[2 * i] * c + b[2 * i + 1] * s;
    pa.sort();
    pb.sort();
    let sq = 0;
    for (let q = 0; q < levels; q++) {
      const level = (q + 0.5) / levels;
      sq += (pa[Math.floor(level * na)] - pb[Math.floor(level * nb)]) ** 2;
    }
    total += sq / levels;
  }
  return Math.sqrt(total / DIRECTIONS);
}
