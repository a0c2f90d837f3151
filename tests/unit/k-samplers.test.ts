// Properties of the k-diffusion style schedulers (Euler, Euler ancestral, Heun, KDPM2, KDPM2
// ancestral, LMS) that the diffusers full-loop conformance cases do not pin down: the timestep plan
// per spacing, the Karras/exponential/beta sigma plans, the repeated/interleaved plans of the
// 2nd-order samplers, reproducible ancestral noise, add_noise index semantics, the numerical helpers
// (beta quantile, Gauss–Kronrod) and tensor ownership over whole loops.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { Tensor } from '@tensorflow/tfjs-core';
import { runCase, type ConformanceCase } from '../../scripts/conformance/runCase';
import { SeededNoise } from '../../src/engine/rng';
import { betaPpf, regularizedIncompleteBeta } from '../../src/engine/schedule/betaPpf';
import { EulerDiscreteScheduler } from '../../src/engine/schedulers/euler';
import { EulerAncestralDiscreteScheduler } from '../../src/engine/schedulers/eulerAncestral';
import { HeunDiscreteScheduler } from '../../src/engine/schedulers/heun';
import { KDPM2DiscreteScheduler } from '../../src/engine/schedulers/kdpm2';
import { KDPM2AncestralDiscreteScheduler } from '../../src/engine/schedulers/kdpm2Ancestral';
import { LMSDiscreteScheduler, quadGaussKronrod21 } from '../../src/engine/schedulers/lms';
import { trainingSigmas } from '../../src/engine/schedulers/sigmaSchedule';
import type { Scheduler, StepOptions } from '../../src/engine/schedulers/types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const SD = { beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear' };
const f32 = Math.fround;

const ALL: [string, (c?: Record<string, unknown>) => Scheduler][] = [
  ['Euler', (c) => new EulerDiscreteScheduler(c)],
  ['EulerAncestral', (c) => new EulerAncestralDiscreteScheduler(c)],
  ['Heun', (c) => new HeunDiscreteScheduler(c)],
  ['KDPM2', (c) => new KDPM2DiscreteScheduler(c)],
  ['KDPM2Ancestral', (c) => new KDPM2AncestralDiscreteScheduler(c)],
  ['LMS', (c) => new LMSDiscreteScheduler(c)],
];

/** A full sampling loop the way a pipeline runs it, disposing everything it creates. */
function sample(scheduler: Scheduler, steps: number, seed: number, options: StepOptions = {}) {
  scheduler.setTimesteps(steps);
  const noise = new SeededNoise(seed);
  const start = noise.randn([1, 4, 4, 2]);
  let x = start.mul(scheduler.initNoiseSigma);
  start.dispose();
  for (const t of scheduler.timesteps) {
    const input = scheduler.scaleModelInput(x, t);
    const eps = tf.tidy(() => input.mul(0.3).add(0.01 * Math.sin(t)));
    const out = scheduler.step(eps, t, x, { generator: noise, ...options });
    for (const tensor of [input, eps, x, out.predOriginalSample]) tensor?.dispose();
    x = out.prevSample;
  }
  const values = x.dataSync().slice();
  x.dispose();
  return values;
}

describe('timestep spacing (diffusers set_timesteps formulas)', () => {
  const plan = (extra: Record<string, unknown>, n = 10) => {
    const s = new EulerDiscreteScheduler({ ...SD, ...extra });
    s.setTimesteps(n);
    return Array.from(s.timesteps);
  };

  it('linspace: np.linspace(0, N-1, n)[::-1] in float32', () => {
    const expected = Array.from({ length: 10 }, (_, i) => f32(999 - (i * 999) / 9));
    expect(plan({})).toEqual(expected);
    expect(plan({}).slice(0, 3)).toEqual([999, 888, 777]);
  });

  it('leading: (arange(n) * (N // n))[::-1] + steps_offset', () => {
    expect(plan({ timestep_spacing: 'leading', steps_offset: 1 })).toEqual([
      901, 801, 701, 601, 501, 401, 301, 201, 101, 1,
    ]);
  });

  it('trailing: round(arange(N, 0, -N / n)) - 1', () => {
    expect(plan({ timestep_spacing: 'trailing' })).toEqual([
      999, 899, 799, 699, 599, 499, 399, 299, 199, 99,
    ]);
    expect(plan({ timestep_spacing: 'trailing' }, 3)).toEqual([999, 666, 332]);
  });

  it('init_noise_sigma is max sigma for linspace/trailing, sqrt(max^2 + 1) for leading', () => {
    const linspace = new EulerDiscreteScheduler(SD);
    linspace.setTimesteps(10);
    expect(linspace.initNoiseSigma).toBe(linspace.sigmas[0]);
    const leading = new EulerDiscreteScheduler({ ...SD, timestep_spacing: 'leading' });
    leading.setTimesteps(10);
    const max = leading.sigmas[0];
    expect(leading.initNoiseSigma).toBe(f32(Math.sqrt(f32(f32(max * max) + 1))));
  });

  it('Heun repeats every timestep but the first; KDPM2 interleaves midpoint timesteps', () => {
    const heun = new HeunDiscreteScheduler(SD);
    heun.setTimesteps(4);
    expect(Array.from(heun.timesteps)).toEqual([999, 666, 666, 333, 333, 0, 0]);
    expect(heun.sigmas.length).toBe(8);
    expect(heun.sigmas[7]).toBe(0);

    const kdpm2 = new KDPM2DiscreteScheduler(SD);
    kdpm2.setTimesteps(4);
    const ts = Array.from(kdpm2.timesteps);
    expect(ts.length).toBe(7);
    expect([ts[0], ts[2], ts[4], ts[6]]).toEqual([999, 666, 333, 0]);
    // Each midpoint lies between its neighbours (sqrt(s_i s_{i+1}) lies between s_{i+1} and s_i).
    for (const i of [1, 3, 5]) expect(ts[i] < ts[i - 1] && ts[i] > ts[i + 1]).toBe(true);
    expect(kdpm2.sigmas.length).toBe(2 * 4 + 2);
  });
});

describe('sigma plans', () => {
  const train = trainingSigmas(new EulerDiscreteScheduler(SD).alphasCumprod);

  it('Karras sigmas run from sigma_max to sigma_min, strictly decreasing, then 0', () => {
    const s = new EulerDiscreteScheduler({ ...SD, use_karras_sigmas: true });
    s.setTimesteps(12);
    const sigmas = Array.from(s.sigmas);
    expect(sigmas.length).toBe(13);
    expect(sigmas[0]).toBe(train[train.length - 1]);
    expect(sigmas[11]).toBe(train[0]);
    expect(sigmas[12]).toBe(0);
    for (let i = 1; i < sigmas.length; i++) expect(sigmas[i]).toBeLessThan(sigmas[i - 1]);
    // Karras et al. eq. 5: uniform in sigma^(1/7).
    const roots = sigmas.slice(0, 12).map((v) => v ** (1 / 7));
    const gaps = roots.slice(1).map((r, i) => roots[i] - r);
    for (const g of gaps) expect(g).toBeCloseTo(gaps[0], 5);
    // Timesteps follow the sigmas back through the training table (fractional, decreasing).
    expect(s.timesteps[0]).toBeCloseTo(999, 3);
    expect(s.timesteps[11]).toBeCloseTo(0, 3);
  });

  it('Euler honours config sigma_min / sigma_max for the Karras plan', () => {
    const s = new EulerDiscreteScheduler({
      ...SD,
      use_karras_sigmas: true,
      sigma_min: 0.1,
      sigma_max: 10,
    });
    s.setTimesteps(8);
    expect(s.sigmas[0]).toBe(f32(10));
    expect(s.sigmas[7]).toBe(f32(0.1));
  });

  it('exponential and beta plans span the same range, beta bunching at both ends', () => {
    for (const flag of ['use_exponential_sigmas', 'use_beta_sigmas']) {
      const s = new LMSDiscreteScheduler({ ...SD, [flag]: true });
      s.setTimesteps(9);
      expect(s.sigmas[0]).toBe(train[train.length - 1]);
      expect(s.sigmas[8]).toBe(train[0]);
      for (let i = 1; i < 9; i++) expect(s.sigmas[i]).toBeLessThan(s.sigmas[i - 1]);
    }
    expect(
      () => new HeunDiscreteScheduler({ use_karras_sigmas: true, use_beta_sigmas: true }),
    ).toThrow(/Only one of/);
  });

  it("final_sigmas_type 'sigma_min' ends on the smallest training sigma", () => {
    const s = new EulerDiscreteScheduler({ ...SD, final_sigmas_type: 'sigma_min' });
    s.setTimesteps(5);
    expect(s.sigmas[5]).toBe(train[0]);
  });

  it('custom sigmas or timesteps reproduce the default plan (diffusers test_custom_*)', () => {
    const ref = new EulerDiscreteScheduler(SD);
    ref.setTimesteps(10);
    const fromSigmas = new EulerDiscreteScheduler(SD);
    fromSigmas.setTimesteps(null, { sigmas: ref.sigmas });
    expect(Array.from(fromSigmas.sigmas)).toEqual(Array.from(ref.sigmas));
    for (let i = 0; i < 10; i++) expect(fromSigmas.timesteps[i]).toBeCloseTo(ref.timesteps[i], 2);
    const fromTimesteps = new EulerDiscreteScheduler(SD);
    fromTimesteps.setTimesteps(null, { timesteps: ref.timesteps });
    expect(Array.from(fromTimesteps.sigmas)).toEqual(Array.from(ref.sigmas));
  });

  it('zero-SNR rescaling makes the first sigma huge but finite (alphas_cumprod[-1] = 2^-24)', () => {
    const s = new EulerDiscreteScheduler({ ...SD, rescale_betas_zero_snr: true });
    s.setTimesteps(10);
    expect(s.sigmas[0]).toBeCloseTo(4096, 0);
  });
});

describe('add_noise and begin index', () => {
  it('looks the timestep up without a begin index, else uses begin/step index', () => {
    const s = new HeunDiscreteScheduler(SD);
    s.setTimesteps(5);
    const x = tf.zeros([2, 3]);
    const noise = tf.ones([2, 3]);
    const t = s.timesteps[4]; // the second copy of a repeated timestep
    const noised = s.addNoise(x, noise, t);
    expect(noised.dataSync()[0]).toBe(s.sigmas[4]);
    s.setBeginIndex(2);
    const fromBegin = s.addNoise(x, noise, 12345);
    expect(fromBegin.dataSync()[0]).toBe(s.sigmas[2]);
    for (const tensor of [x, noise, noised, fromBegin]) tensor.dispose();
  });
});

describe('ancestral samplers', () => {
  for (const [name, make] of ALL.filter(([n]) => n.includes('Ancestral'))) {
    it(`${name} is reproducible from the same noise source`, () => {
      const a = sample(make(SD), 6, 7);
      const b = sample(make(SD), 6, 7);
      const c = sample(make(SD), 6, 8);
      expect(Array.from(a)).toEqual(Array.from(b));
      expect(Array.from(a)).not.toEqual(Array.from(c));
    });
  }

  it('Euler churn draws noise only when gamma > 0', () => {
    const plain = sample(new EulerDiscreteScheduler(SD), 6, 3);
    const churned = sample(new EulerDiscreteScheduler(SD), 6, 3, { sChurn: 1 });
    expect(Array.from(churned)).not.toEqual(Array.from(plain));
    const outOfRange = sample(new EulerDiscreteScheduler(SD), 6, 3, { sChurn: 1, sTmax: 0 });
    expect(Array.from(outOfRange)).toEqual(Array.from(plain));
  });
});

describe('numerical helpers', () => {
  it('betaPpf inverts the incomplete beta and matches closed forms and scipy', () => {
    for (let i = 1; i < 20; i++) {
      const q = i / 20;
      expect(betaPpf(q, 0.5, 0.5)).toBeCloseTo(Math.sin((Math.PI * q) / 2) ** 2, 14);
      expect(betaPpf(q, 2, 1)).toBeCloseTo(Math.sqrt(q), 14);
      expect(regularizedIncompleteBeta(betaPpf(q, 0.6, 0.6), 0.6, 0.6)).toBeCloseTo(q, 14);
    }
    // scipy.stats.beta.ppf(1 - k/9, 0.6, 0.6), k = 1, 2, 3.
    expect(betaPpf(1 - 1 / 9, 0.6, 0.6)).toBeCloseTo(0.9529081824509575, 14);
    expect(betaPpf(1 - 2 / 9, 0.6, 0.6)).toBeCloseTo(0.8543989028585846, 14);
    expect(betaPpf(1 - 3 / 9, 0.6, 0.6)).toBeCloseTo(0.7245867092223766, 14);
    expect(betaPpf(0, 0.6, 0.6)).toBe(0);
    expect(betaPpf(1, 0.6, 0.6)).toBe(1);
  });

  it('21-point Gauss–Kronrod integrates polynomials exactly', () => {
    expect(quadGaussKronrod21((x) => 3 * x * x - 2 * x + 1, 0.5, 4)).toBeCloseTo(
      4 ** 3 - 4 ** 2 + 4 - (0.5 ** 3 - 0.25 + 0.5),
      12,
    );
    expect(quadGaussKronrod21((x) => x ** 3, 10, 2)).toBeCloseTo((2 ** 4 - 10 ** 4) / 4, 9);
  });

  it("LMS's first coefficient is the step length sigma_{i+1} - sigma_i", () => {
    const s = new LMSDiscreteScheduler(SD);
    s.setTimesteps(10);
    expect(s.lmsCoefficient(1, 0, 0)).toBeCloseTo(s.sigmas[1] - s.sigmas[0], 12);
    // The order-2 weights sum to the step length (they integrate a partition of unity).
    const sum = s.lmsCoefficient(2, 3, 0) + s.lmsCoefficient(2, 3, 1);
    expect(sum).toBeCloseTo(s.sigmas[4] - s.sigmas[3], 5);
  });
});

describe('tensor ownership', () => {
  for (const [name, make] of ALL) {
    it(`${name}: no tensors leak over a loop, and dispose() frees the history`, () => {
      const scheduler = make(SD);
      const before = tf.memory().numTensors;
      sample(scheduler, 5, 1);
      sample(scheduler, 5, 1); // set_timesteps again drops any history
      scheduler.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('a loop stopped half-way through a Heun step leaves nothing after dispose()', () => {
    const s = new HeunDiscreteScheduler(SD);
    s.setTimesteps(4);
    const before = tf.memory().numTensors;
    const x: Tensor = tf.ones([1, 2]);
    const out = s.step(x, s.timesteps[0], x);
    out.prevSample.dispose();
    out.predOriginalSample?.dispose();
    x.dispose();
    expect(tf.memory().numTensors).toBeGreaterThan(before); // derivative + sample kept
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('diffusers full-loop cases', () => {
  const cases = JSON.parse(
    readFileSync('tests/conformance/cases-k-samplers.json', 'utf8'),
  ) as ConformanceCase[];
  for (const c of cases) {
    it(c.name, () => {
      const result = runCase(c);
      expect(result.passed, result.detail).toBe(true);
    });
  }
});
