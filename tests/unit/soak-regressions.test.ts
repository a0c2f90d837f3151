// Bugs the random-interaction soak (tests/e2e/soak.spec.ts) found, pinned down in Node.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { DiffusionRun, type RunModel } from '../../src/engine/run/diffusionRun';
import { schedulerConfigFor } from '../../src/engine/run/schedulerConfig';
import type { RunSettings } from '../../src/engine/run/settings';
import { buildSchedulePlan } from '../../src/engine/schedulePlan';
import { ancestralSigmas } from '../../src/engine/schedulers/eulerAncestral';
import { SCHEDULE, gaussianRunModel } from './gaussianDenoiser';
import { runSettings } from './runSettingsFixture';

const COSINE = { ...SCHEDULE, beta_schedule: 'squaredcos_cap_v2' as const };
const cosineModel = (): RunModel => gaussianRunModel(COSINE);

const settings = (patch: Partial<RunSettings> = {}): RunSettings =>
  runSettings(
    { sampler: 'DDIM', steps: 5, guidanceScale: 1, classes: [3, 3], seeds: [1, 2] },
    patch,
  );

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('sigma schedule override of a preset that has its own', () => {
  it('"DPM2 a Karras" with the Exponential schedule sets exactly one use_*_sigmas flag', () => {
    const { config } = schedulerConfigFor(COSINE, {
      sampler: 'DPM2 a Karras',
      spacing: null,
      sigmaSchedule: 'exponential',
    });
    expect(config.use_exponential_sigmas).toBe(true);
    expect(config.use_karras_sigmas).toBeUndefined();
    const plan = buildSchedulePlan(COSINE, {
      sampler: 'DPM2 a Karras',
      steps: 10,
      spacing: null,
      sigmaSchedule: 'exponential',
    });
    expect(plan.timesteps.every(Number.isFinite)).toBe(true);
  });
});

describe('ancestral sigmas from the cosine schedule top (sigma ~2e4)', () => {
  it('sigma_down stays positive and finite where float32 cancels to^2 - up^2', () => {
    // up^2 = 1 - 2.5e-9 rounds to exactly 1 in float32, so to^2 - up^2 is 0 (log(0) downstream).
    const { up, down } = ancestralSigmas(2e4, 1);
    expect(down).toBeGreaterThan(0);
    expect(Math.abs(down - 1 / 2e4) / (1 / 2e4)).toBeLessThan(1e-6);
    expect(up).toBeCloseTo(1, 6);
  });

  for (const spacing of ['linspace', 'trailing'] as const) {
    it(`"DPM2 a" with ${spacing} spacing plans no NaN timestep`, () => {
      const plan = buildSchedulePlan(COSINE, {
        sampler: 'DPM2 a',
        steps: 10,
        spacing,
        sigmaSchedule: 'default',
      });
      expect(plan.timesteps.every(Number.isFinite)).toBe(true);
    });
  }
});

describe('img2img with strength below 1 / steps', () => {
  it('starts at the end of the plan and returns the source unchanged', () => {
    const pixels = new Float32Array(64).fill(0.3);
    const run = new DiffusionRun(cosineModel(), settings({ img2img: { pixels, strength: 0.1 } }));
    expect(run.done).toBe(true);
    expect(run.position.planIndex).toBe(run.position.total);
    const out = run.displaySample();
    for (const v of out) expect(v).toBeCloseTo(0.3, 5);
    run.dispose();
  });
});
