// The estimator end to end on a closed-form case: Gaussian data x_0 ~ N(mu, s^2) per pixel and the
// exact optimal denoiser, whose expected KL terms and prior term are known; and the stratified
// subset of timesteps against the full sum on a tiny schedule.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-backend-cpu';
import type { Tensor4D } from '@tensorflow/tfjs-core';
import type { DenoiseModel } from '../../src/engine/denoiser';
import { Xoshiro128, gaussianArray } from '../../src/engine/gaussian';
import {
  ElboEstimate,
  makeVbTables,
  meanWithError,
  runInChunks,
  stratifiedTimesteps,
  stratumBounds,
  type ElboImage,
  type ElboSettings,
  type FixedVariance,
  type VbTables,
} from '../../src/engine/elbo';

const T = 20;
const tables = makeVbTables(Array.from({ length: T }, (_, i) => 0.01 + (0.4 * i) / (T - 1)));
const MU = 0.2;
const S = 0.3;
const SIZE = 8;

/** The posterior-mean denoiser for x_0 ~ N(MU, S^2): eps = (x_t - a E[x_0 | x_t]) / sigma. */
class GaussianDataDenoiser implements DenoiseModel {
  readonly predictionType = 'epsilon' as const;
  readonly nullClass = 1;
  readonly imageShape = [SIZE, SIZE, 1] as const;
  calls = 0;

  constructor(private readonly vb: VbTables) {}

  predict(x: Tensor4D, timesteps: number[]): Tensor4D {
    this.calls++;
    return tf.tidy(() => {
      const items = timesteps.map((t, i) => {
        const a = Math.sqrt(this.vb.alphasCumprod[t]);
        const sigma = Math.sqrt(1 - this.vb.alphasCumprod[t]);
        const gain = (a * S * S) / (a * a * S * S + sigma * sigma);
        const xi = x.slice([i, 0, 0, 0], [1, -1, -1, -1]);
        const x0 = xi
          .sub(a * MU)
          .mul(gain)
          .add(MU);
        return xi.sub(x0.mul(a)).div(sigma);
      });
      return tf.concat(items) as Tensor4D;
    });
  }
}

/**
 * E[L_t] in bits/dim: KL(N(m, beta-tilde) || N(m', v)) averaged over x_0 and x_t, where the means
 * differ by c1 (x_0 - E[x_0 | x_t]), of variance c1^2 Var[x_0 | x_t].
 */
function expectedKlBits(t: number, variance: FixedVariance = 'fixed_small'): number {
  const a2 = tables.alphasCumprod[t];
  const posteriorVar = (S * S * (1 - a2)) / (a2 * S * S + (1 - a2));
  const c1 = tables.posteriorMeanCoef1[t];
  const trueLogVar = tables.posteriorLogVarianceClipped[t];
  const modelLogVar = variance === 'fixed_small' ? trueLogVar : tables.largeLogVariance[t];
  const gap = c1 * c1 * posteriorVar;
  const nats =
    0.5 *
    (-1 +
      modelLogVar -
      trueLogVar +
      Math.exp(trueLogVar - modelLogVar) +
      gap * Math.exp(-modelLogVar));
  return nats / Math.LN2;
}

function expectedPriorBits(): number {
  const a2 = tables.alphasCumprod[T - 1];
  return (0.5 * (-1 - Math.log(1 - a2) + (1 - a2) + a2 * (MU * MU + S * S))) / Math.LN2;
}

function gaussianImages(count: number, seed: number): ElboImage[] {
  const rng = new Xoshiro128(seed);
  return Array.from({ length: count }, () => ({
    pixels: gaussianArray(rng, SIZE * SIZE).map((z) => MU + S * z),
    classId: 0,
  }));
}

const settings = (patch: Partial<ElboSettings>): ElboSettings => ({
  timesteps: 'all',
  seed: 1,
  clipDenoised: false,
  batchSize: 16,
  ...patch,
});

async function estimate(images: ElboImage[], patch: Partial<ElboSettings>) {
  const model = new GaussianDataDenoiser(tables);
  const e = new ElboEstimate(model, tables, images, settings(patch));
  const progress: number[] = [];
  const results = await runInChunks(e, {
    yieldNow: () => Promise.resolve(),
    onProgress: (done) => progress.push(done),
    cancelled: () => false,
  });
  return { results: results!, calls: model.calls, progress, pairsTotal: e.pairsTotal };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('ElboEstimate on Gaussian data with the optimal denoiser', () => {
  const images = gaussianImages(60, 7);

  it('matches the closed-form expected KL sum and prior term', async () => {
    const { results, calls, progress, pairsTotal } = await estimate(images, {});
    // Every image: L_0 plus all T-1 KL terms, batched 16 pairs per call.
    expect(pairsTotal).toBe(images.length * T);
    expect(calls).toBe(Math.ceil(pairsTotal / 16));
    expect(progress.at(-1)).toBe(pairsTotal);
    let exactKl = 0;
    for (let t = 1; t < T; t++) exactKl += expectedKlBits(t);
    const kl = meanWithError(results.map((r) => r.klSumBits));
    expect(Math.abs(kl.mean - exactKl)).toBeLessThan(4 * kl.stderr);
    expect(kl.stderr / exactKl).toBeLessThan(0.05);
    const prior = meanWithError(results.map((r) => r.priorBits));
    expect(Math.abs(prior.mean - expectedPriorBits())).toBeLessThan(4 * prior.stderr + 1e-9);
    let exactLarge = 0;
    for (let t = 1; t < T; t++) exactLarge += expectedKlBits(t, 'fixed_large');
    const large = meanWithError(results.map((r) => r.klSumBitsLarge));
    expect(Math.abs(large.mean - exactLarge)).toBeLessThan(4 * large.stderr);
    for (const r of results) {
      expect(r.terms.map((term) => term.t)).toEqual(Array.from({ length: T }, (_, t) => t));
      expect(r.bitsPerDim).toBeCloseTo(r.decoderBits + r.klSumBits + r.priorBits, 12);
    }
  });

  it('gives the same mean from a stratified subset of 5 timesteps as from the full sum', async () => {
    const full = await estimate(images, {});
    const subset = await estimate(images, { timesteps: 5, seed: 1000 });
    expect(subset.pairsTotal).toBe(images.length * 6);
    for (const r of subset.results) {
      expect(r.terms.length).toBe(6);
      expect(r.terms.slice(1).reduce((a, term) => a + term.weight, 0)).toBe(T - 1);
    }
    const a = meanWithError(full.results.map((r) => r.klSumBits));
    const b = meanWithError(subset.results.map((r) => r.klSumBits));
    expect(Math.abs(a.mean - b.mean)).toBeLessThan(4 * Math.hypot(a.stderr, b.stderr));
  });

  it('draws the same terms whatever the batch size, and other ones with another seed', async () => {
    const few = images.slice(0, 3);
    const one = await estimate(few, { timesteps: 4, batchSize: 1 });
    const many = await estimate(few, { timesteps: 4, batchSize: 7 });
    const other = await estimate(few, { timesteps: 4, seed: 2 });
    expect(many.results.map((r) => r.bitsPerDim)).toEqual(one.results.map((r) => r.bitsPerDim));
    expect(other.results[0].bitsPerDim).not.toBe(one.results[0].bitsPerDim);
  });

  it('stops between model calls when cancelled', async () => {
    const model = new GaussianDataDenoiser(tables);
    const e = new ElboEstimate(model, tables, images.slice(0, 4), settings({ batchSize: 4 }));
    let polls = 0;
    const out = await runInChunks(e, {
      yieldNow: () => Promise.resolve(),
      onProgress: () => {},
      cancelled: () => ++polls > 2,
    });
    expect(out).toBeNull();
    expect(model.calls).toBe(2);
  });

  it('refuses images of the wrong size', () => {
    const model = new GaussianDataDenoiser(tables);
    const bad = [{ pixels: new Float32Array(10), classId: 0 }];
    expect(() => new ElboEstimate(model, tables, bad, settings({}))).toThrow(/takes 8x8x1/);
  });
});

describe('stratifiedTimesteps', () => {
  it('makes the strata grow geometrically, the first terms evaluated exactly', () => {
    expect(stratumBounds(1000, 10)).toEqual([1, 2, 4, 8, 16, 32, 64, 127, 253, 503, 1000]);
    const k50 = stratumBounds(1000, 50);
    expect(k50.length).toBe(51);
    expect(k50.slice(0, 13)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    for (let k = 1; k < k50.length; k++) {
      expect(k50[k] - k50[k - 1]).toBeGreaterThanOrEqual(1);
      // Past the single-term strata, neighbours differ by the geometric ratio 1000^(1/50) ~ 1.15.
      if (k50[k - 1] >= 20) expect(k50[k] / k50[k - 1]).toBeLessThan(1.2);
    }
    expect(k50.at(-1)).toBe(1000);
    // More strata than fit geometrically: every stratum keeps at least one term.
    expect(stratumBounds(5, 3)).toEqual([1, 2, 3, 5]);
  });

  it('partitions 1..T-1 into K strata, one t in each, weighted by stratum size', () => {
    const rng = new Xoshiro128(3);
    for (const [n, k] of [
      [1000, 50],
      [1000, 7],
      [20, 5],
    ]) {
      const picks = stratifiedTimesteps(n, k, rng);
      expect(picks.length).toBe(k);
      expect(picks.reduce((a, p) => a + p.weight, 0)).toBe(n - 1);
      let lo = 1;
      for (const p of picks) {
        expect(p.t).toBeGreaterThanOrEqual(lo);
        expect(p.t).toBeLessThan(lo + p.weight);
        lo += p.weight;
      }
    }
    // K at or above T-1 is the exact sum.
    expect(stratifiedTimesteps(20, 19, rng)).toEqual(
      Array.from({ length: 19 }, (_, i) => ({ t: i + 1, weight: 1 })),
    );
  });

  it('is unbiased: the mean of the weighted sum over draws is the full sum', () => {
    const f = (t: number) => 1 / t + Math.sin(t / 30) ** 2;
    let exact = 0;
    for (let t = 1; t < 1000; t++) exact += f(t);
    const rng = new Xoshiro128(11);
    const draws = Array.from({ length: 4000 }, () =>
      stratifiedTimesteps(1000, 10, rng).reduce((a, p) => a + p.weight * f(p.t), 0),
    );
    const m = meanWithError(draws);
    expect(Math.abs(m.mean - exact)).toBeLessThan(4 * m.stderr);
    expect(m.stderr).toBeGreaterThan(0);
  });
});
