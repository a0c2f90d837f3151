// The Gaussian pieces of the variational bound, elementwise in float64, as improved-diffusion's
// losses.py writes them (normal_kl, approx_standard_normal_cdf,
// discretized_gaussian_log_likelihood), so the numbers can be compared term for term.

/** KL(N(mean1, e^logvar1) || N(mean2, e^logvar2)) in nats, one dimension. */
export function normalKl(mean1: number, logvar1: number, mean2: number, logvar2: number): number {
  const d = mean1 - mean2;
  return 0.5 * (-1 + logvar2 - logvar1 + Math.exp(logvar1 - logvar2) + d * d * Math.exp(-logvar2));
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * The standard normal CDF by the tanh approximation improved-diffusion uses (max error ~3e-4).
 * Kept rather than an exact erf so our bits/dim match theirs on the same model.
 */
export function approxStandardNormalCdf(x: number): number {
  return 0.5 * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
}

/** Half the width of one 8-bit bin on the [-1, 1] scale. */
export const HALF_BIN = 1 / 255;

/**
 * log P(x) in nats for one pixel x on the 8-bit grid scaled to [-1, 1], under N(mean, e^(2·logScale))
 * integrated over x's bin; the edge bins reach to -inf and +inf (Ho et al. 2020, eq. 13).
 */
export function discretizedGaussianLogLikelihood(
  x: number,
  mean: number,
  logScale: number,
): number {
  const centered = x - mean;
  const invStdv = Math.exp(-logScale);
  const cdfPlus = approxStandardNormalCdf(invStdv * (centered + HALF_BIN));
  const cdfMin = approxStandardNormalCdf(invStdv * (centered - HALF_BIN));
  if (x < -0.999) return Math.log(Math.max(cdfPlus, 1e-12));
  if (x > 0.999) return Math.log(Math.max(1 - cdfMin, 1e-12));
  return Math.log(Math.max(cdfPlus - cdfMin, 1e-12));
}

/** Moves [-1, 1] values onto the 8-bit grid the discretised decoder is defined on. */
export function quantizeTo8Bit(pixels: ArrayLike<number>): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    const byte = Math.round((Math.min(1, Math.max(-1, pixels[i])) + 1) * 127.5);
    out[i] = byte / 127.5 - 1;
  }
  return out;
}
