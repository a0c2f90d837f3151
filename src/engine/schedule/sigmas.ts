// Sigma-space helpers shared by the k-diffusion style schedulers (Euler, Heun, DPM-Solver, ...),
// ported from diffusers' `_sigma_to_t`, `_convert_to_karras` and `_convert_to_exponential`.
import { linspace } from './numpy';

/** Log-linear inverse of the sigma table: the (fractional) training timestep of a sigma. */
export function sigmaToT(sigma: number, logSigmas: ArrayLike<number>): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  // numpy: low_idx = cumsum(dists >= 0).argmax().clip(max=n-2), dists = logSigma - logSigmas[i].
  // logSigmas increases with t, so this is the last index whose logSigma is <= ours.
  const n = logSigmas.length;
  let count = 0;
  let best = -1;
  let lowIdx = 0;
  for (let i = 0; i < n; i++) {
    if (logSigma - logSigmas[i] >= 0) count++;
    if (count > best) {
      best = count;
      lowIdx = i;
    }
  }
  lowIdx = Math.min(lowIdx, n - 2);
  const highIdx = lowIdx + 1;
  const low = logSigmas[lowIdx];
  const high = logSigmas[highIdx];
  let w = (low - logSigma) / (low - high);
  w = Math.min(1, Math.max(0, w));
  return (1 - w) * lowIdx + w * highIdx;
}

/** Karras et al. 2022 (eq. 5) noise levels: uniform in sigma^(1/rho), rho = 7. */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, n: number, rho = 7.0): number[] {
  const minInvRho = sigmaMin ** (1 / rho);
  const maxInvRho = sigmaMax ** (1 / rho);
  return linspace(0, 1, n).map((r) => (maxInvRho + r * (minInvRho - maxInvRho)) ** rho);
}

/** Noise levels uniform in log(sigma). */
export function exponentialSigmas(sigmaMin: number, sigmaMax: number, n: number): number[] {
  return linspace(Math.log(sigmaMax), Math.log(sigmaMin), n).map(Math.exp);
}

/** Lu et al. 2022 (DPM-Solver++): uniform in log-SNR lambda between the ends of the table. */
export function luLambdas(lambdaMin: number, lambdaMax: number, n: number): number[] {
  return linspace(0, 1, n).map((r) => lambdaMax + r * (lambdaMin - lambdaMax));
}
