import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { Tensor } from '@tensorflow/tfjs-core';
import { DDPMScheduler } from '../../src/engine/schedulers/ddpm';
import { DDIMScheduler } from '../../src/engine/schedulers/ddim';
import { PNDMScheduler } from '../../src/engine/schedulers/pndm';
import type { NoiseSource, Scheduler, StepResult } from '../../src/engine/schedulers/types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A seeded NoiseSource: the same seed gives the same sequence of tensors. */
class SeededRandn implements NoiseSource {
  private calls = 0;
  constructor(private readonly seed: number) {}
  randn(shape: number[]): Tensor {
    return tf.randomNormal(shape, 0, 1, 'float32', this.seed * 1000 + this.calls++);
  }
}

const SHAPE = [2, 3, 4, 4];
const BASE = { num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02 };

/** Values in [-0.9, 0.9] so clip_sample never changes an exact x0 prediction. */
function knownX0(): Tensor {
  return tf.tidy(() => tf.randomUniform(SHAPE, -0.9, 0.9, 'float32', 7));
}

function disposeResults(...results: StepResult[]): void {
  for (const r of results)
    tf.dispose([r.prevSample, ...(r.predOriginalSample ? [r.predOriginalSample] : [])]);
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]);
}

/** A perfect model for x0: returns epsilon (or v) consistent with x_t at alphā_t. */
function oracle(
  x0: Tensor,
  xt: Tensor,
  alphaProd: number,
  type: 'epsilon' | 'v_prediction',
): Tensor {
  return tf.tidy(() => {
    const a = Math.sqrt(alphaProd);
    const s = Math.sqrt(1 - alphaProd);
    const eps = xt.sub(x0.mul(a)).div(s);
    return type === 'epsilon' ? eps : eps.mul(a).sub(x0.mul(s));
  });
}

describe('timesteps per spacing (diffusers set_timesteps formulas, values from numpy)', () => {
  const timesteps = (config: Record<string, unknown>, n: number) => {
    const s = new DDIMScheduler({ ...BASE, ...config });
    s.setTimesteps(n);
    return Array.from(s.timesteps);
  };

  it('leading, with and without steps_offset', () => {
    expect(timesteps({}, 10)).toEqual([900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
    expect(timesteps({}, 3)).toEqual([666, 333, 0]);
    expect(timesteps({ steps_offset: 1 }, 5)).toEqual([801, 601, 401, 201, 1]);
  });

  it('linspace rounds half to even', () => {
    const config = { timestep_spacing: 'linspace' };
    expect(timesteps(config, 10)).toEqual([999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
    // 999 * 3 / 6 = 499.5 -> 500
    expect(timesteps(config, 7)).toEqual([999, 832, 666, 500, 333, 166, 0]);
  });

  it("trailing follows numpy's arange fill exactly", () => {
    const config = { timestep_spacing: 'trailing' };
    expect(timesteps(config, 10)).toEqual([999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
    // np.arange(1000, 0, -1000/48)[45] is 62.4999..., so np.round gives 62 (not 63).
    const t48 = timesteps(config, 48);
    expect(t48.length).toBe(48);
    expect(t48.slice(-5)).toEqual([103, 82, 61, 41, 20]);
    expect(t48.slice(0, 6)).toEqual([999, 978, 957, 936, 916, 895]);
  });

  it('DDPM uses the same spacings, and steps every training timestep before set_timesteps', () => {
    const ddpm = new DDPMScheduler({ ...BASE, timestep_spacing: 'trailing' });
    expect(ddpm.timesteps.length).toBe(1000);
    expect(ddpm.timesteps[0]).toBe(999);
    expect(ddpm.previousTimestep(500)).toBe(499);
    ddpm.setTimesteps(10);
    expect(Array.from(ddpm.timesteps)).toEqual([999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
    expect(ddpm.previousTimestep(999)).toBe(899);
    expect(ddpm.previousTimestep(99)).toBe(-1);
  });

  it('PNDM: Runge-Kutta warm-up and PLMS lists', () => {
    const pndm = new PNDMScheduler({ ...BASE, steps_offset: 1 });
    pndm.setTimesteps(10);
    expect(Array.from(pndm.timesteps)).toEqual([
      901, 851, 851, 801, 801, 751, 751, 701, 701, 651, 651, 601, 601, 501, 401, 301, 201, 101, 1,
    ]);
    const plain = new PNDMScheduler(BASE);
    plain.setTimesteps(10);
    expect(Array.from(plain.prkTimesteps)).toEqual([
      900, 850, 850, 800, 800, 750, 750, 700, 700, 650, 650, 600,
    ]);
    expect(Array.from(plain.plmsTimesteps)).toEqual([600, 500, 400, 300, 200, 100, 0]);
    const trailing = new PNDMScheduler({ ...BASE, timestep_spacing: 'trailing' });
    trailing.setTimesteps(10);
    expect(Array.from(trailing.prkTimesteps)).toEqual([
      999, 949, 949, 899, 899, 849, 849, 799, 799, 749, 749, 699,
    ]);
    expect(Array.from(trailing.plmsTimesteps)).toEqual([699, 599, 499, 399, 299, 199, 99]);
  });

  it('PNDM skip_prk_steps repeats the second timestep; PRK needs >= 4 steps', () => {
    const skip = new PNDMScheduler({ ...BASE, skip_prk_steps: true });
    skip.setTimesteps(10);
    expect(skip.prkTimesteps.length).toBe(0);
    expect(Array.from(skip.timesteps)).toEqual([
      900, 800, 800, 700, 600, 500, 400, 300, 200, 100, 0,
    ]);
    for (const n of [1, 2, 3]) skip.setTimesteps(n);
    const prk = new PNDMScheduler(BASE);
    for (const n of [1, 2, 3]) expect(() => prk.setTimesteps(n)).toThrow(/must be >= 4/);
    expect(() => prk.setTimesteps(4)).not.toThrow();
  });

  it('rejects zero or too many inference steps', () => {
    expect(() => new DDIMScheduler(BASE).setTimesteps(0)).toThrow();
    expect(() => new DDIMScheduler(BASE).setTimesteps(1001)).toThrow();
    expect(() => new DDPMScheduler(BASE).setTimesteps(0)).toThrow();
  });
});

describe('DDPM', () => {
  it('custom timesteps: previous_timestep and validation (test_custom_timesteps*)', () => {
    const s = new DDPMScheduler(BASE);
    s.setTimesteps(null, [100, 87, 50, 1, 0]);
    expect(s.customTimesteps).toBe(true);
    expect([100, 87, 50, 1, 0].map((t) => s.previousTimestep(t))).toEqual([87, 50, 1, 0, -1]);
    expect(() => s.setTimesteps(null, [100, 87, 50, 51, 0])).toThrow(/descending/);
    expect(() => s.setTimesteps(5, [100, 87, 50, 1, 0])).toThrow(/only pass one/);
    expect(() => s.setTimesteps(null, [1000])).toThrow(/must start before/);
  });

  it('variance matches diffusers test_variance', () => {
    const s = new DDPMScheduler(BASE);
    expect(s.getVariance(0) as number).toBeCloseTo(0, 5);
    expect(Math.abs((s.getVariance(487) as number) - 0.00979)).toBeLessThan(1e-5);
    expect(Math.abs((s.getVariance(999) as number) - 0.02)).toBeLessThan(1e-5);
    const large = new DDPMScheduler({ ...BASE, variance_type: 'fixed_large' });
    expect(large.getVariance(487) as number).toBeCloseTo(large.betas[487], 6);
  });

  it('adds sqrt(variance) * noise to the posterior mean, none at t = 0', () => {
    const s = new DDPMScheduler(BASE);
    const x = knownX0();
    const out = tf.tidy(() => x.mul(0.5));
    const zeros = tf.zerosLike(x);
    const noise = tf.onesLike(x);
    const mean = s.step(out, 500, x, { varianceNoise: zeros });
    const noisy = s.step(out, 500, x, { varianceNoise: noise });
    const diff = tf.tidy(() => noisy.prevSample.sub(mean.prevSample).mean().dataSync()[0]);
    expect(diff).toBeCloseTo(Math.sqrt(s.getVariance(500) as number), 5);
    expect(maxAbsDiff(mean.predOriginalSample!, noisy.predOriginalSample!)).toBe(0);
    // t = 0: deterministic, no noise source needed
    const last = s.step(out, 0, x);
    expect(last.prevSample.shape).toEqual(SHAPE);
    expect(() => s.step(out, 500, x)).toThrow(/generator/);
    tf.dispose([x, out, zeros, noise]);
    disposeResults(mean, noisy, last);
  });

  it('is reproducible for the same seed and differs for another', () => {
    const run = (seed: number) => {
      const s = new DDPMScheduler(BASE);
      s.setTimesteps(20);
      const gen = new SeededRandn(seed);
      let x = tf.tidy(() => tf.randomNormal(SHAPE, 0, 1, 'float32', 1));
      for (const t of s.timesteps) {
        const out = tf.tidy(() => x.mul(0.1));
        const r = s.step(out, t, x, { generator: gen });
        tf.dispose([out, x, r.predOriginalSample!]);
        x = r.prevSample;
      }
      return x;
    };
    const [a, b, c] = [run(3), run(3), run(4)];
    expect(maxAbsDiff(a, b)).toBe(0);
    expect(maxAbsDiff(a, c)).toBeGreaterThan(0);
    tf.dispose([a, b, c]);
  });

  it('learned_range splits the predicted variance off the channel axis', () => {
    const s = new DDPMScheduler({ ...BASE, variance_type: 'learned_range' });
    s.setTimesteps(10);
    const x = knownX0();
    const out = tf.tidy(() => tf.concat([x.mul(0.1), tf.zerosLike(x)], 1));
    const r = s.step(out, 900, x, { varianceNoise: tf.zerosLike(x) });
    expect(r.prevSample.shape).toEqual(SHAPE);
    tf.dispose([x, out, r.prevSample, r.predOriginalSample!]);
  });
});

describe('DDIM', () => {
  it('variance matches diffusers test_variance', () => {
    const s = new DDIMScheduler(BASE);
    const cases: [number, number, number][] = [
      [0, 0, 0],
      [420, 400, 0.14771],
      [980, 960, 0.3246],
      [487, 486, 0.00979],
      [999, 998, 0.02],
    ];
    for (const [t, prev, v] of cases)
      expect(Math.abs(s.getVariance(t, prev) - v)).toBeLessThan(1e-5);
  });

  for (const type of ['epsilon', 'v_prediction'] as const) {
    it(`eta = 0 with a perfect ${type} oracle recovers x0 exactly`, () => {
      const s = new DDIMScheduler({ ...BASE, prediction_type: type });
      s.setTimesteps(25);
      const x0 = knownX0();
      const eps = tf.tidy(() => tf.randomNormal(SHAPE, 0, 1, 'float32', 11));
      const first = s.timesteps[0];
      let x = s.addNoise(x0, eps, first);
      for (const t of s.timesteps) {
        const out = oracle(x0, x, s.alphasCumprod[t], type);
        const r = s.step(out, t, x, { eta: 0 });
        // Every step's x0 estimate is the true x0.
        expect(maxAbsDiff(r.predOriginalSample!, x0)).toBeLessThan(1e-3);
        tf.dispose([out, x, r.predOriginalSample!]);
        x = r.prevSample;
      }
      // set_alpha_to_one: the last step lands exactly on the x0 estimate.
      expect(maxAbsDiff(x, x0)).toBeLessThan(1e-4);
      tf.dispose([x, x0, eps]);
    });
  }

  it('starting part-way (img2img: add_noise then the remaining steps) also recovers x0', () => {
    const s = new DDIMScheduler({ ...BASE, timestep_spacing: 'trailing' });
    s.setTimesteps(10);
    s.setBeginIndex(6);
    expect(s.stepIndex).toBe(6);
    const x0 = knownX0();
    const eps = tf.tidy(() => tf.randomNormal(SHAPE, 0, 1, 'float32', 12));
    const ts = Array.from(s.timesteps).slice(6);
    let x = s.addNoise(x0, eps, ts[0]);
    for (const t of ts) {
      const out = oracle(x0, x, s.alphasCumprod[t], 'epsilon');
      const r = s.step(out, t, x);
      tf.dispose([out, x, r.predOriginalSample!]);
      x = r.prevSample;
    }
    expect(s.stepIndex).toBe(10);
    expect(maxAbsDiff(x, x0)).toBeLessThan(1e-4);
    tf.dispose([x, x0, eps]);
  });

  it('eta > 0 adds std_dev_t * variance_noise; generator and variance_noise are exclusive', () => {
    const s = new DDIMScheduler(BASE);
    s.setTimesteps(10);
    const x = knownX0();
    const out = tf.tidy(() => x.mul(0.3));
    const ones = tf.onesLike(x);
    const zeros = tf.zerosLike(x);
    const a = s.step(out, 500, x, { eta: 1, varianceNoise: zeros });
    const b = s.step(out, 500, x, { eta: 1, varianceNoise: ones });
    const diff = tf.tidy(() => b.prevSample.sub(a.prevSample).mean().dataSync()[0]);
    expect(diff).toBeCloseTo(Math.sqrt(s.getVariance(500, 400)), 5);
    expect(() =>
      s.step(out, 500, x, { eta: 1, varianceNoise: ones, generator: new SeededRandn(1) }),
    ).toThrow(/Cannot pass both/);
    const g1 = s.step(out, 500, x, { eta: 0.5, generator: new SeededRandn(2) });
    const g2 = s.step(out, 500, x, { eta: 0.5, generator: new SeededRandn(2) });
    expect(maxAbsDiff(g1.prevSample, g2.prevSample)).toBe(0);
    tf.dispose([x, out, ones, zeros]);
    disposeResults(a, b, g1, g2);
  });

  it('clip_sample_range and thresholding bound the x0 estimate', () => {
    const x = tf.tidy(() => tf.randomNormal(SHAPE, 0, 3, 'float32', 5));
    const out = tf.tidy(() => x.mul(-2));
    for (const config of [
      { clip_sample_range: 0.5 },
      { thresholding: true, sample_max_value: 1.5, dynamic_thresholding_ratio: 0.9 },
    ]) {
      const s = new DDIMScheduler({ ...BASE, ...config });
      s.setTimesteps(10);
      const r = s.step(out, 300, x);
      const maxX0 = tf.tidy(() => r.predOriginalSample!.abs().max().dataSync()[0]);
      expect(maxX0).toBeLessThanOrEqual(config.thresholding ? 1 + 1e-6 : 0.5);
      tf.dispose([r.prevSample, r.predOriginalSample!]);
    }
    tf.dispose([x, out]);
  });

  it('rescale_betas_zero_snr gives alphā_T = 0 exactly (no 2^-24 clamp)', () => {
    const s = new DDIMScheduler({ ...BASE, rescale_betas_zero_snr: true });
    expect(s.alphasCumprod[999]).toBe(0);
    expect(s.alphasCumprod[0]).toBeCloseTo(1 - 0.0001, 6);
  });

  it('steps before set_timesteps are rejected', () => {
    const s = new DDIMScheduler(BASE);
    const x = tf.zeros(SHAPE);
    expect(() => s.step(x, 10, x)).toThrow(/set_timesteps/);
    x.dispose();
  });
});

describe('PNDM', () => {
  it('step() dispatches to stepPrk / stepPlms exactly like the explicit two-phase loop', () => {
    const model = (x: Tensor, t: number) => tf.tidy(() => x.mul(t).div(t + 1));
    const explicit = new PNDMScheduler(BASE);
    const viaStep = new PNDMScheduler(BASE);
    explicit.setTimesteps(10);
    viaStep.setTimesteps(10);
    let a = knownX0();
    let b = a.clone();
    for (const t of explicit.prkTimesteps) {
      const out = model(a, t);
      const r = explicit.stepPrk(out, t, a);
      tf.dispose([out, a]);
      a = r.prevSample;
    }
    for (const t of explicit.plmsTimesteps) {
      const out = model(a, t);
      const r = explicit.stepPlms(out, t, a);
      tf.dispose([out, a]);
      a = r.prevSample;
    }
    for (const t of viaStep.timesteps) {
      const out = model(b, t);
      const r = viaStep.step(out, t, b);
      tf.dispose([out, b]);
      b = r.prevSample;
    }
    expect(maxAbsDiff(a, b)).toBe(0);
    expect(viaStep.stepIndex).toBe(viaStep.timesteps.length);
    tf.dispose([a, b]);
    explicit.dispose();
    viaStep.dispose();
  });

  it('PLMS without warm-up refuses to run; with skip_prk_steps it runs from the start', () => {
    const x = knownX0();
    const s = new PNDMScheduler(BASE);
    s.setTimesteps(10);
    expect(() => s.stepPlms(x, 1, x)).toThrow(/prk/);
    const skip = new PNDMScheduler({
      ...BASE,
      skip_prk_steps: true,
      prediction_type: 'v_prediction',
    });
    skip.setTimesteps(10);
    let y = x.clone();
    for (const t of skip.timesteps) {
      const out = tf.tidy(() => y.mul(0.1));
      const r = skip.step(out, t, y);
      tf.dispose([out, y]);
      y = r.prevSample;
    }
    expect(Number.isFinite(tf.tidy(() => y.abs().sum().dataSync()[0]))).toBe(true);
    tf.dispose([x, y]);
    skip.dispose();
  });

  it('addNoise is sqrt(ā_t) x + sqrt(1 - ā_t) noise', () => {
    const s = new PNDMScheduler(BASE);
    const x = tf.ones(SHAPE);
    const n = tf.fill(SHAPE, 2);
    const y = s.addNoise(x, n, 400);
    const a = s.alphasCumprod[400];
    expect(y.dataSync()[0]).toBeCloseTo(Math.sqrt(a) + 2 * Math.sqrt(1 - a), 5);
    tf.dispose([x, n, y]);
  });
});

describe('no tensor leaks', () => {
  const loop = (name: string, make: () => Scheduler, options: Record<string, unknown> = {}) =>
    it(name, () => {
      const x0 = tf.tidy(() => tf.randomNormal(SHAPE, 0, 1, 'float32', 9));
      const before = tf.memory().numTensors;
      for (let run = 0; run < 2; run++) {
        const s = make();
        s.setTimesteps(10);
        const gen = new SeededRandn(run);
        let x = x0.clone();
        const counts: number[] = [];
        for (const t of s.timesteps) {
          const out = tf.tidy(() => x.mul(0.2));
          const r = s.step(out, t, x, { generator: gen, ...options });
          tf.dispose([out, x]);
          r.predOriginalSample?.dispose();
          x = r.prevSample;
          counts.push(tf.memory().numTensors);
        }
        // Flat over the loop once any history is full (PNDM keeps at most 4 model outputs).
        expect(counts[counts.length - 1]).toBe(counts[counts.length - 2]);
        x.dispose();
        s.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
      x0.dispose();
    });

  loop('DDPM (stochastic)', () => new DDPMScheduler(BASE));
  loop(
    'DDPM fixed_small_log + thresholding',
    () => new DDPMScheduler({ ...BASE, variance_type: 'fixed_small_log', thresholding: true }),
  );
  loop('DDIM eta = 1, use_clipped_model_output', () => new DDIMScheduler(BASE), {
    eta: 1,
    useClippedModelOutput: true,
  });
  loop(
    'DDIM thresholding, v-prediction',
    () => new DDIMScheduler({ ...BASE, thresholding: true, prediction_type: 'v_prediction' }),
  );
  loop('PNDM F-PNDM', () => new PNDMScheduler(BASE));
  loop('PNDM skip_prk_steps', () => new PNDMScheduler({ ...BASE, skip_prk_steps: true }));
});
