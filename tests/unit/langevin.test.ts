// Langevin dynamics with the model's score: the corrector's step (src/engine/langevin.ts), the
// predictor-corrector run, and the Annealed Langevin sampler's plan. The exact Gaussian denoiser
// (gaussianDenoiser.ts) knows the true score, so a correct corrector keeps the data's statistics.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { langevinStep } from '../../src/engine/langevin';
import { DiffusionRun } from '../../src/engine/run/diffusionRun';
import { createScheduler } from '../../src/engine/schedulers';
import {
  DATA_STD,
  GaussianDenoiser,
  SCHEDULE,
  classMean,
  gaussianRunModel,
  meanAndStd,
} from './gaussianDenoiser';
import { runSettings } from './runSettingsFixture';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('langevinStep', () => {
  it('takes e = 2a(r|z|/|s|)² per image', () => {
    const x = tf.tensor4d([1, 1, 0, 0], [2, 1, 2, 1]);
    const score = tf.tensor4d([3, 4, 0.5, 0], [2, 1, 2, 1]); // |s| = 5 and 0.5
    const noise = tf.tensor4d([1, 0, 0, 2], [2, 1, 2, 1]); // |z| = 1 and 2
    const out = langevinStep(x, score, noise, 0.5, 0.9).arraySync() as number[][][][];
    const e0 = 2 * 0.9 * ((0.5 * 1) / 5) ** 2;
    const e1 = 2 * 0.9 * ((0.5 * 2) / 0.5) ** 2;
    expect(out[0][0][0][0]).toBeCloseTo(1 + e0 * 3 + Math.sqrt(2 * e0) * 1, 5);
    expect(out[0][0][1][0]).toBeCloseTo(1 + e0 * 4, 5);
    expect(out[1][0][0][0]).toBeCloseTo(e1 * 0.5, 5);
    expect(out[1][0][1][0]).toBeCloseTo(Math.sqrt(2 * e1) * 2, 5);
  });
});

describe('Langevin corrector in a run (predictor-corrector sampling)', () => {
  const settings = (sampler: string, langevinSteps: number, langevinSnr = 0.16) =>
    runSettings({
      sampler,
      steps: 20,
      guidanceScale: 1,
      classes: Array(8).fill(3),
      seeds: [1, 2, 3, 4, 5, 6, 7, 8],
      langevinSteps,
      langevinSnr,
    });

  it('keeps the data mean and spread and costs one model call per corrector step', () => {
    for (const sampler of ['DDIM', 'Euler', 'DPM++ 2M']) {
      const denoiser = new GaussianDenoiser();
      const run = new DiffusionRun(gaussianRunModel(SCHEDULE, denoiser), settings(sampler, 2));
      while (!run.done) run.step();
      const { mean, std } = meanAndStd(run.displaySample());
      run.dispose();
      expect(Math.abs(mean - classMean(3))).toBeLessThan(0.1);
      expect(Math.abs(std - DATA_STD)).toBeLessThan(0.1);
      // 20 predictor calls; 2 corrector calls after each step but the last (sigma 0 there).
      expect(denoiser.calls).toBe(20 + 2 * 19);
    }
  });

  it('changes the samples (it is not a no-op) and is reproducible', () => {
    const finish = (steps: number) => {
      const run = new DiffusionRun(gaussianRunModel(), settings('DDIM', steps));
      while (!run.done) run.step();
      const out = run.displaySample();
      run.dispose();
      return Array.from(out);
    };
    const plain = finish(0);
    const a = finish(1);
    expect(a).not.toEqual(plain);
    expect(finish(1)).toEqual(a);
  });

  it('corrects only between whole solver steps of a second-order sampler', () => {
    const denoiser = new GaussianDenoiser();
    const run = new DiffusionRun(gaussianRunModel(SCHEDULE, denoiser), settings('Heun', 1));
    while (!run.done) run.step();
    run.dispose();
    // Heun: 2·20 - 1 = 39 plan calls; 19 step boundaries inside the plan get one corrector call.
    expect(denoiser.calls).toBe(39 + 19);
  });
});

describe('AnnealedLangevinScheduler', () => {
  it('visits each noise level steps_per_level times, geometric from 80 down, then denoises', () => {
    const s = createScheduler('AnnealedLangevinScheduler', {
      ...SCHEDULE,
      steps_per_level: 3,
      snr: 0.4,
    });
    s.setTimesteps(10);
    expect(s.timesteps.length).toBe(31);
    const sigmas = Array.from(s.sigmas!);
    expect(sigmas.length).toBe(32);
    expect(sigmas[0]).toBeCloseTo(Math.min(80, sigmas[0]), 5);
    expect(sigmas[0]).toBeLessThanOrEqual(80.001);
    expect(sigmas[0]).toBe(sigmas[2]);
    expect(sigmas[3]).toBeLessThan(sigmas[2]);
    // Geometric: equal ratios between levels.
    expect(sigmas[3] / sigmas[0]).toBeCloseTo(sigmas[6] / sigmas[3], 4);
    expect(sigmas[30]).toBe(sigmas[29]); // the denoising call at the last level
    expect(sigmas[31]).toBe(0);
    s.dispose();
  });

  it("takes its steps per level and SNR from the run's Langevin controls", () => {
    const denoiser = new GaussianDenoiser();
    const run = new DiffusionRun(
      gaussianRunModel(SCHEDULE, denoiser),
      runSettings({
        sampler: 'Annealed Langevin',
        steps: 10,
        guidanceScale: 1,
        classes: [3],
        seeds: [1],
        langevinSteps: 2,
        langevinSnr: 0.5,
      }),
    );
    expect(run.position.total).toBe(21);
    run.update({ langevinSteps: 4 }); // re-plans: the plan length follows
    expect(run.position.total).toBe(41);
    run.dispose();
  });
});
