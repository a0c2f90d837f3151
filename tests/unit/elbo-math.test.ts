// The Gaussian pieces of the bound against hand-computed values, and one term of the bound
// against its closed form when the model knows the true noise.
import { describe, expect, it } from 'vitest';
import {
  approxStandardNormalCdf,
  discretizedGaussianLogLikelihood,
  makeVbTables,
  normalKl,
  priorBits,
  quantizeTo8Bit,
  vbTermBits,
} from '../../src/engine/elbo';

describe('normalKl', () => {
  it('matches hand-computed KL divergences in nats', () => {
    expect(normalKl(0, 0, 0, 0)).toBe(0);
    // Unit variances, means 1 apart: (1 - 0)^2 / 2.
    expect(normalKl(1, 0, 0, 0)).toBeCloseTo(0.5, 12);
    // N(0, 4) against N(0, 1): (-1 + 0 - ln 4 + 4) / 2.
    expect(normalKl(0, Math.log(4), 0, 0)).toBeCloseTo(0.5 * (3 - Math.log(4)), 12);
    // N(0, 1) against N(1, 4): (-1 + ln 4 + 1/4 + 1/4) / 2 = 0.443147...
    expect(normalKl(0, 0, 1, Math.log(4))).toBeCloseTo(0.4431471805599453, 12);
  });
});

describe('approxStandardNormalCdf', () => {
  it('is within 3e-4 of the standard normal CDF and symmetric', () => {
    // Phi at 0, 1, 1.96, 3 (tables).
    const phi: [number, number][] = [
      [0, 0.5],
      [1, 0.8413447460685429],
      [1.96, 0.9750021048517795],
      [3, 0.9986501019683699],
    ];
    for (const [x, p] of phi) {
      expect(Math.abs(approxStandardNormalCdf(x) - p)).toBeLessThan(3e-4);
      expect(approxStandardNormalCdf(-x) + approxStandardNormalCdf(x)).toBeCloseTo(1, 12);
    }
  });
});

describe('discretizedGaussianLogLikelihood', () => {
  it('integrates the Gaussian over the pixel bin: Phi(1) - Phi(-1) when sigma is half a bin', () => {
    // Bin [-1/255, 1/255] around 0 and sigma = 1/255: P = 0.682689..., ln P = -0.381870.
    const logP = discretizedGaussianLogLikelihood(0, 0, Math.log(1 / 255));
    expect(logP).toBeCloseTo(Math.log(0.6826894921370859), 3);
  });

  it('gives the edge bins the whole tail', () => {
    // x = -1 reaches down to -inf: P = Phi((1/255) / sigma) with sigma = 0.01 -> Phi(0.39216).
    const low = discretizedGaussianLogLikelihood(-1, -1, Math.log(0.01));
    expect(low).toBeCloseTo(Math.log(0.652531), 3);
    const high = discretizedGaussianLogLikelihood(1, 1, Math.log(0.01));
    expect(high).toBeCloseTo(low, 10);
    // Far from the mean the tail probability is tiny but stays finite (floored at 1e-12).
    expect(discretizedGaussianLogLikelihood(1, -1, Math.log(0.01))).toBeCloseTo(Math.log(1e-12), 6);
  });

  it('is the density times the bin width when the Gaussian is wide', () => {
    const sigma = 0.5;
    const x = 0.2;
    const mean = -0.1;
    const density =
      Math.exp(-((x - mean) ** 2) / (2 * sigma * sigma)) / (sigma * Math.sqrt(2 * Math.PI));
    expect(discretizedGaussianLogLikelihood(x, mean, Math.log(sigma))).toBeCloseTo(
      Math.log((density * 2) / 255),
      2, // the tanh CDF's slope is off by up to ~0.1% from the true density
    );
  });

  it('sums to 1 over all 256 bins', () => {
    let total = 0;
    for (let b = 0; b < 256; b++) {
      total += Math.exp(discretizedGaussianLogLikelihood(b / 127.5 - 1, 0.3, Math.log(0.2)));
    }
    expect(total).toBeCloseTo(1, 6);
  });
});

describe('quantizeTo8Bit', () => {
  it('moves values onto the 256-level grid and clamps', () => {
    const q = quantizeTo8Bit([-1, 1, 0, 0.003, 2, -7]);
    expect(Array.from(q, (v) => Math.round((v + 1) * 127.5))).toEqual([0, 255, 128, 128, 255, 0]);
  });
});

describe('makeVbTables', () => {
  // betas 0.1, 0.2, 0.3: alpha-bar 0.9, 0.72, 0.504.
  const tables = makeVbTables([0.1, 0.2, 0.3]);

  it('holds the forward posterior coefficients, computed by hand', () => {
    expect(Array.from(tables.alphasCumprod)).toEqual([0.9, 0.9 * 0.8, 0.9 * 0.8 * 0.7]);
    // beta-tilde_1 = 0.2 (1 - 0.9) / (1 - 0.72); beta-tilde_2 = 0.3 (1 - 0.72) / (1 - 0.504).
    expect(Math.exp(tables.posteriorLogVarianceClipped[1])).toBeCloseTo(0.02 / 0.28, 12);
    expect(Math.exp(tables.posteriorLogVarianceClipped[2])).toBeCloseTo(0.084 / 0.496, 12);
    // t = 0: beta-tilde_0 = 0, clipped to beta-tilde_1; fixed_large uses it too.
    expect(tables.posteriorLogVarianceClipped[0]).toBe(tables.posteriorLogVarianceClipped[1]);
    expect(tables.largeLogVariance[0]).toBe(tables.posteriorLogVarianceClipped[1]);
    expect(Math.exp(tables.largeLogVariance[2])).toBeCloseTo(0.3, 12);
    // mean coefficients: beta_t sqrt(abar_{t-1}) / (1 - abar_t), (1 - abar_{t-1}) sqrt(alpha_t) / (1 - abar_t).
    expect(tables.posteriorMeanCoef1[1]).toBeCloseTo((0.2 * Math.sqrt(0.9)) / 0.28, 12);
    expect(tables.posteriorMeanCoef2[1]).toBeCloseTo((0.1 * Math.sqrt(0.8)) / 0.28, 12);
    // At t = 0 the posterior mean is x_0 itself.
    expect(tables.posteriorMeanCoef1[0]).toBeCloseTo(1, 12);
    expect(tables.posteriorMeanCoef2[0]).toBe(0);
  });
});

describe('vbTermBits with a model that knows the true noise', () => {
  const tables = makeVbTables(Array.from({ length: 10 }, (_, i) => 0.02 + 0.05 * i));
  const d = 64;
  const x0 = quantizeTo8Bit(Array.from({ length: d }, (_, i) => Math.sin(i) * 0.9));
  const eps = Array.from({ length: d }, (_, i) => Math.cos(3 * i));
  const term = (t: number, clipDenoised = false) => {
    const a = Math.sqrt(tables.alphasCumprod[t]);
    const s = Math.sqrt(1 - tables.alphasCumprod[t]);
    const xt = x0.map((v, i) => a * v + s * eps[i]);
    return vbTermBits(tables, {
      t,
      x0,
      xt: { data: xt, offset: 0 },
      modelOutput: { data: eps, offset: 0 },
      predictionType: 'epsilon',
      clipDenoised,
    });
  };

  it('gives L_t = 0 with fixed_small and the variance mismatch alone with fixed_large', () => {
    for (const t of [1, 4, 9]) {
      const bits = term(t);
      expect(bits.fixedSmall).toBeCloseTo(0, 5);
      // Same means: KL = (-1 + ln(beta/beta-tilde) + beta-tilde/beta) / 2 nats per dimension.
      const ratio = Math.exp(tables.largeLogVariance[t] - tables.posteriorLogVarianceClipped[t]);
      const expected = (0.5 * (-1 + Math.log(ratio) + 1 / ratio)) / Math.LN2;
      expect(bits.fixedLarge).toBeCloseTo(expected, 5);
      expect(bits.fixedLarge).toBeGreaterThan(0);
    }
  });

  it('gives L_0 = -log2 P(x_0 bin | mean x_0, sigma = sqrt(beta-tilde_1))', () => {
    const sigma = Math.exp(0.5 * tables.posteriorLogVarianceClipped[1]);
    let nats = 0;
    for (const v of x0) nats -= discretizedGaussianLogLikelihood(v, v, Math.log(sigma));
    const bits = term(0, true);
    expect(bits.fixedSmall).toBeCloseTo(nats / (d * Math.LN2), 5);
    expect(bits.fixedLarge).toBe(bits.fixedSmall);
  });

  it('reads a v-prediction model too', () => {
    const t = 5;
    const a = Math.sqrt(tables.alphasCumprod[t]);
    const s = Math.sqrt(1 - tables.alphasCumprod[t]);
    const xt = x0.map((v, i) => a * v + s * eps[i]);
    const v = x0.map((x, i) => a * eps[i] - s * x);
    const bits = vbTermBits(tables, {
      t,
      x0,
      xt: { data: xt, offset: 0 },
      modelOutput: { data: v, offset: 0 },
      predictionType: 'v_prediction',
      clipDenoised: false,
    });
    expect(bits.fixedSmall).toBeCloseTo(0, 5);
  });
});

describe('priorBits', () => {
  it('is KL(N(sqrt(abar_T) x_0, 1 - abar_T) || N(0, 1)) per dimension, by hand', () => {
    const tables = makeVbTables([0.1, 0.2, 0.3]);
    const abar = 0.504;
    const x0 = [0.5, -0.5];
    // Per pixel: (-1 - ln(1 - abar) + (1 - abar) + abar x^2) / 2, x^2 = 0.25.
    const nats = 0.5 * (-1 - Math.log(1 - abar) + (1 - abar) + abar * 0.25);
    expect(priorBits(tables, x0)).toBeCloseTo(nats / Math.LN2, 10);
  });
});
