// Maximum mean discrepancy between two 2D point clouds with a sum of Gaussian kernels at several
// bandwidths, in plain JavaScript. The small bandwidths see fine structure (a thin ring against a
// blob with the same variance), the large ones the overall placement.
import type { Points } from './datasets';

/** In units of the data's standard deviation (the model's normalised space). */
export const MMD_BANDWIDTHS = [0.05, 0.1, 0.2, 0.5] as const;
export const MMD_METRIC =
  'mmd_rbf: sqrt of the unbiased MMD^2, kernel = sum of exp(-|x-y|^2 / (2 h^2)) for h = 0.05, 0.1, 0.2, 0.5 data standard deviations';

const COEFFS = MMD_BANDWIDTHS.map((h) => -1 / (2 * h * h));

function kernel(d2: number): number {
  let sum = 0;
  for (const c of COEFFS) sum += Math.exp(c * d2);
  return sum;
}

/** Mean kernel over pairs, skipping i === j when the two clouds are the same (unbiased). */
function meanKernel(a: Points, b: Points, same: boolean): number {
  const na = a.length / 2;
  const nb = b.length / 2;
  let sum = 0;
  for (let i = 0; i < na; i++) {
    const ax = a[2 * i];
    const ay = a[2 * i + 1];
    for (let j = same ? i + 1 : 0; j < nb; j++) {
      const dx = ax - b[2 * j];
      const dy = ay - b[2 * j + 1];
      sum += kernel(dx * dx + dy * dy);
    }
  }
  return same ? (2 * sum) / (na * (na - 1)) : sum / (na * nb);
}

/** sqrt(max(0, unbiased MMD^2)); clouds need at least two points each. */
export function mmd(a: Points, b: Points): number {
  if (a.length < 4 || b.length < 4) throw new Error('mmd needs at least two points in each cloud');
  const squared = meanKernel(a, a, true) + meanKernel(b, b, true) - 2 * meanKernel(a, b, false);
  return Math.sqrt(Math.max(0, squared));
}
