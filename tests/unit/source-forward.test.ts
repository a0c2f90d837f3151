import { describe, expect, it } from 'vitest';
import { Xoshiro128, gaussianArray } from '../../src/engine/rng';
import {
  TRAINING_SCHEDULE,
  alphasCumprodFor,
  forwardSample,
  forwardStats,
} from '../../src/source/forwardProcess';
import { PIXEL_COUNT } from '../../src/source/grid';

describe('forward process on the cosine schedule', () => {
  const alphasCumprod = alphasCumprodFor(TRAINING_SCHEDULE);

  it('alphā_t follows cos²(((t+1)/T + s)/(1 + s) · π/2) / cos²(s/(1+s) · π/2)', () => {
    expect(alphasCumprod).toHaveLength(1000);
    // The closed form of the product of (1 - beta) for the Nichol & Dhariwal cosine schedule
    // (exact until a beta hits its 0.999 cap at the very end).
    const f = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (const t of [0, 1, 10, 250, 500, 750, 900]) {
      expect(alphasCumprod[t]).toBeCloseTo(f((t + 1) / 1000) / f(0), 5);
    }
    for (let t = 1; t < 1000; t++) expect(alphasCumprod[t]).toBeLessThan(alphasCumprod[t - 1]);
    expect(alphasCumprod[999]).toBeLessThan(1e-4);
  });

  it('returns the same table object for the same config', () => {
    expect(alphasCumprodFor({ ...TRAINING_SCHEDULE })).toBe(alphasCumprod);
  });

  it('SNR is alphā / (1 - alphā); about 1 half-way through the cosine schedule', () => {
    const { alphaBar, snr } = forwardStats(alphasCumprod[500]);
    expect(snr).toBeCloseTo(alphaBar / (1 - alphaBar), 10);
    expect(snr).toBeGreaterThan(0.9);
    expect(snr).toBeLessThan(1.1);
  });

  it('x_t = sqrt(alphā) x_0 + sqrt(1 - alphā) eps, with the statistics that implies', () => {
    const x0 = Float32Array.from({ length: PIXEL_COUNT }, (_, i) => (i % 2 ? 0.8 : -0.8));
    const noise = gaussianArray(new Xoshiro128(3), PIXEL_COUNT);
    const alphaBar = alphasCumprod[300];
    const xt = forwardSample(x0, noise, alphaBar);
    expect(xt[5]).toBeCloseTo(Math.sqrt(alphaBar) * x0[5] + Math.sqrt(1 - alphaBar) * noise[5], 6);
    // The residual after removing the signal has variance 1 - alphā (784 samples: loose bound).
    let sumSq = 0;
    for (let i = 0; i < PIXEL_COUNT; i++) sumSq += (xt[i] - Math.sqrt(alphaBar) * x0[i]) ** 2;
    expect(sumSq / PIXEL_COUNT / (1 - alphaBar)).toBeGreaterThan(0.85);
    expect(sumSq / PIXEL_COUNT / (1 - alphaBar)).toBeLessThan(1.15);
    expect(Array.from(forwardSample(x0, noise, 1))).toEqual(Array.from(x0));
    expect(() => forwardSample(x0, noise.subarray(1), 0.5)).toThrow();
  });
});
