import { describe, expect, it } from 'vitest';
import {
  PRESET_DATASETS,
  applyNormalization,
  fitNormalization,
  presetPoints,
  splitHeldOut,
  textProblem,
  undoNormalization,
} from '../../src/engine/train/datasets';
import { slicedWasserstein } from '../../src/engine/train/distance';
import { mmd } from '../../src/engine/train/mmd';
import { elboWeights, forwardNoise, toyTables } from '../../src/engine/train/noiseTables';
import {
  DEFAULT_MODEL_CONFIG,
  configProblems,
  DEFAULT_TRAIN_CONFIG,
} from '../../src/engine/train/toyConfig';
import { Xoshiro128, gaussianArray } from '../../src/engine/gaussian';

const gaussianCloud = (n: number, seed: number) => gaussianArray(new Xoshiro128(seed), 2 * n);

describe('toy data sets', () => {
  it.each(PRESET_DATASETS)(
    '%s comes normalised (zero mean, unit variance) and reproducible',
    (name) => {
      const points = presetPoints(name, 3000, 4);
      expect(points).toHaveLength(6000);
      const norm = fitNormalization(points);
      expect(Math.abs(norm.mean[0])).toBeLessThan(1e-4);
      expect(Math.abs(norm.mean[1])).toBeLessThan(1e-4);
      expect(norm.scale).toBeCloseTo(1, 4);
      expect(presetPoints(name, 3000, 4)).toEqual(points);
      expect(presetPoints(name, 3000, 5)).not.toEqual(points);
    },
  );

  it('normalisation round-trips, and a lone point keeps scale 1 instead of dividing by zero', () => {
    const drawn = new Float32Array([3, 4, 5, 6, 7, 9]);
    const norm = fitNormalization(drawn);
    const back = undoNormalization(applyNormalization(drawn, norm), norm);
    back.forEach((v, i) => expect(v).toBeCloseTo(drawn[i], 5));
    expect(fitNormalization(new Float32Array([2, 2])).scale).toBe(1);
  });

  it('splits off held-out points without overlap', () => {
    const points = Float32Array.from({ length: 200 }, (_, i) => i);
    const { train, heldOut } = splitHeldOut(points, 0.2, 1);
    expect(train.length + heldOut.length).toBe(200);
    expect(heldOut.length).toBe(40);
    const trainSet = new Set(Array.from(train).filter((_, i) => i % 2 === 0));
    expect(
      Array.from(heldOut)
        .filter((_, i) => i % 2 === 0)
        .some((x) => trainSet.has(x)),
    ).toBe(false);
  });

  it('refuses text it cannot draw, with a reason', () => {
    expect(textProblem('HI')).toBeNull();
    expect(textProblem('')).toContain('Type some text');
    expect(textProblem('é')).toContain("'É'");
    expect(textProblem('A'.repeat(40))).toContain('limited');
  });
});

describe('distances', () => {
  it('are near zero for two draws of one distribution and large for different ones', () => {
    const a = gaussianCloud(1500, 1);
    const b = gaussianCloud(1500, 2);
    const moons = presetPoints('moons', 1500, 1);
    expect(mmd(a, b)).toBeLessThan(0.05);
    expect(mmd(a, moons)).toBeGreaterThan(0.2);
    expect(slicedWasserstein(a, b)).toBeLessThan(0.06);
    expect(slicedWasserstein(a, moons)).toBeGreaterThan(0.2);
  });

  it('sliced Wasserstein of a shifted cloud is the shift (per direction, averaged)', () => {
    const a = gaussianCloud(500, 3);
    const shifted = a.map((v, i) => (i % 2 === 0 ? v + 1 : v));
    // Projections shift by cos(angle): sqrt(mean cos^2) = sqrt(1/2).
    expect(slicedWasserstein(a, shifted)).toBeCloseTo(Math.SQRT1_2, 3);
  });
});

describe('noise tables', () => {
  it('noises the data to alphā and ends near pure noise for every schedule', () => {
    for (const betaSchedule of [
      'linear',
      'squaredcos_cap_v2',
      'scaled_linear',
      'sigmoid',
    ] as const) {
      const { alphasCumprod } = toyTables({ ...DEFAULT_MODEL_CONFIG, betaSchedule });
      expect(alphasCumprod[alphasCumprod.length - 1]).toBeLessThan(0.01);
      expect(alphasCumprod[0]).toBeGreaterThan(0.99);
    }
    const x0 = new Float32Array([2, -1]);
    expect(forwardNoise(x0, 1, 1)).toEqual(x0);
  });

  it('weights the ELBO like DDPM: largest at t = 0 for epsilon, scaled by SNR for x_0', () => {
    const tables = toyTables(DEFAULT_MODEL_CONFIG);
    const eps = elboWeights(tables, 'epsilon');
    const x0 = elboWeights(tables, 'sample');
    expect(eps[0]).toBeGreaterThan(eps[50]);
    const ab = tables.alphasCumprod[10];
    expect(x0[10] / eps[10]).toBeCloseTo(ab / (1 - ab), 6);
  });
});

describe('toy configuration', () => {
  it('names every bad setting', () => {
    const problems = configProblems(
      { ...DEFAULT_MODEL_CONFIG, width: 0, numTrainTimesteps: 2.5, embeddingSize: 7 },
      { ...DEFAULT_TRAIN_CONFIG, learningRate: Number.NaN },
    );
    expect(problems.join('\n')).toMatch(/Width/);
    expect(problems.join('\n')).toMatch(/Timesteps/);
    expect(problems.join('\n')).toMatch(/even/);
    expect(problems.join('\n')).toMatch(/Learning rate/);
  });
});
