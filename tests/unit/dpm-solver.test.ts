// Properties of the DPM-Solver ports (multistep and singlestep) that the diffusers full-loop
// conformance cases do not pin down: timestep plans per spacing, the Lu and order schedules,
// tensor ownership over a whole loop, and reproducibility of the SDE variants.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { Tensor } from '@tensorflow/tfjs-core';
import { DPMSolverMultistepScheduler } from '../../src/engine/schedulers/dpmSolverMultistep';
import {
  DPMSolverSinglestepScheduler,
  dpmSingleStepOrderList,
} from '../../src/engine/schedulers/dpmSolverSinglestep';
import { sigmaToAlphaSigmaT } from '../../src/engine/schedulers/dpmShared';
import type { NoiseSource, Scheduler, StepOptions } from '../../src/engine/schedulers/types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A tiny seeded standard-normal source (mulberry32 + Box-Muller), enough for these tests. */
function seededNoise(seed: number): NoiseSource {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (((z ^ (z >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return {
    randn(shape: number[]): Tensor {
      const n = shape.reduce((a, b) => a * b, 1);
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        values[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
      }
      return tf.tensor(values, shape);
    },
  };
}

/** FORMAT.md's deterministic sample and dummy model. */
function deterministicSample(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const batch = shape[0];
  const perItem = n / batch;
  const values = new Float32Array(n);
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < perItem; r++) values[b * perItem + r] = (r * batch + b) / n;
  }
  return tf.tensor(values, shape);
}

function dummyModel(x: Tensor, t: number): Tensor {
  return tf.tidy(() => tf.div(tf.mul(x, Math.fround(t)), Math.fround(Math.fround(t) + 1)));
}

/** Runs the plain loop; returns the final sample (caller disposes) and tensor counts per step. */
function runLoop(
  scheduler: Scheduler,
  shape = [2, 3, 4, 4],
  stepOptions: () => StepOptions = () => ({}),
): { sample: Tensor; counts: number[] } {
  let x = deterministicSample(shape);
  const counts: number[] = [];
  for (const t of Array.from(scheduler.timesteps)) {
    const out = dummyModel(x, t);
    const result = scheduler.step(out, t, x, stepOptions());
    out.dispose();
    result.predOriginalSample?.dispose();
    x.dispose();
    x = result.prevSample;
    counts.push(tf.memory().numTensors);
  }
  return { sample: x, counts };
}

function multistep(config: Record<string, unknown> = {}, steps = 10): DPMSolverMultistepScheduler {
  const s = new DPMSolverMultistepScheduler(config);
  s.setTimesteps(steps);
  return s;
}

describe('DPMSolverMultistepScheduler timesteps', () => {
  it('linspace spacing rounds np.linspace(0, 999, n + 1) half to even', () => {
    expect(Array.from(multistep().timesteps)).toEqual([
      999, 899, 799, 699, 599, 500, 400, 300, 200, 100,
    ]);
  });

  it('leading spacing uses step_ratio = T // (n + 1) plus steps_offset', () => {
    const s = multistep({ timestep_spacing: 'leading', steps_offset: 1 });
    expect(Array.from(s.timesteps)).toEqual([901, 811, 721, 631, 541, 451, 361, 271, 181, 91]);
  });

  it('trailing spacing counts down from T in steps of T / n, minus one', () => {
    const s = multistep({ timestep_spacing: 'trailing' });
    expect(Array.from(s.timesteps)).toEqual([999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
    const uneven = multistep({ timestep_spacing: 'trailing' }, 3);
    // np.arange(1000, 0, -333.33).round() - 1
    expect(Array.from(uneven.timesteps)).toEqual([999, 666, 332]);
  });

  it('sigmas are the training table at the timesteps plus the final sigma', () => {
    const zero = multistep();
    expect(zero.sigmas.length).toBe(11);
    expect(zero.sigmas[10]).toBe(0);
    const min = multistep({ final_sigmas_type: 'sigma_min' });
    expect(min.sigmas[10]).toBeGreaterThan(0);
    expect(min.sigmas[10]).toBeLessThan(min.sigmas[9]);
  });

  it('lambda_min_clipped drops the noisiest training steps of the cosine schedule', () => {
    const clipped = multistep({ beta_schedule: 'squaredcos_cap_v2', lambda_min_clipped: -5.1 });
    const full = multistep({ beta_schedule: 'squaredcos_cap_v2' });
    expect(full.timesteps[0]).toBe(999);
    expect(clipped.timesteps[0]).toBeLessThan(999);
  });

  it('Lu lambdas are uniform in log-SNR and the timesteps strictly decrease', () => {
    const s = multistep({ use_lu_lambdas: true }, 12);
    const lambdas = Array.from(s.sigmas.slice(0, 12), (sigma) => -Math.log(sigma));
    const gaps = lambdas.slice(1).map((l, i) => l - lambdas[i]);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThan(0);
      expect(gap).toBeCloseTo(gaps[0], 4);
    }
    for (let i = 1; i < s.timesteps.length; i++) {
      expect(s.timesteps[i]).toBeLessThan(s.timesteps[i - 1]);
    }
  });

  it('Karras, exponential and beta ladders run from sigma_max down to sigma_min', () => {
    for (const key of ['use_karras_sigmas', 'use_exponential_sigmas', 'use_beta_sigmas']) {
      const s = multistep({ [key]: true, final_sigmas_type: 'sigma_min' }, 8);
      const sigmas = Array.from(s.sigmas);
      for (let i = 1; i < 8; i++) expect(sigmas[i]).toBeLessThan(sigmas[i - 1]);
      // The ladder ends at the training table's sigma_min, which sigma_min also appends.
      expect(sigmas[8]).toBe(sigmas[7]);
    }
  });

  it('rejects more than one sigma ladder and zero final sigma for dpmsolver', () => {
    expect(
      () => new DPMSolverMultistepScheduler({ use_karras_sigmas: true, use_beta_sigmas: true }),
    ).toThrow();
    expect(() => new DPMSolverMultistepScheduler({ algorithm_type: 'dpmsolver' })).toThrow();
  });
});

describe('DPMSolverSinglestepScheduler order list', () => {
  it('follows diffusers get_order_list', () => {
    expect(dpmSingleStepOrderList(10, 2, true, 'sigma_min')).toEqual([
      1, 2, 1, 2, 1, 2, 1, 2, 1, 1,
    ]);
    expect(dpmSingleStepOrderList(9, 2, true, 'sigma_min')).toEqual([1, 2, 1, 2, 1, 2, 1, 2, 1]);
    expect(dpmSingleStepOrderList(10, 2, false, 'sigma_min')).toEqual([
      1, 2, 1, 2, 1, 2, 1, 2, 1, 2,
    ]);
    expect(dpmSingleStepOrderList(9, 3, true, 'sigma_min')).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 1]);
    expect(dpmSingleStepOrderList(10, 3, true, 'sigma_min')).toEqual([
      1, 2, 3, 1, 2, 3, 1, 2, 3, 1,
    ]);
    expect(dpmSingleStepOrderList(8, 3, true, 'sigma_min')).toEqual([1, 2, 3, 1, 2, 3, 1, 2]);
    expect(dpmSingleStepOrderList(6, 3, false, 'zero')).toEqual([1, 2, 3, 1, 2, 1]);
    expect(dpmSingleStepOrderList(4, 1, false, 'sigma_min')).toEqual([1, 1, 1, 1]);
  });

  it('set_timesteps turns on lower_order_final for uneven steps or a zero final sigma', () => {
    const uneven = new DPMSolverSinglestepScheduler({ final_sigmas_type: 'sigma_min' });
    uneven.setTimesteps(9);
    expect(uneven.config.lower_order_final).toBe(true);
    expect(uneven.orderList).toEqual([1, 2, 1, 2, 1, 2, 1, 2, 1]);

    const even = new DPMSolverSinglestepScheduler({ final_sigmas_type: 'sigma_min' });
    even.setTimesteps(10);
    expect(even.config.lower_order_final).toBe(false);

    const zero = new DPMSolverSinglestepScheduler();
    zero.setTimesteps(10);
    expect(zero.config.lower_order_final).toBe(true);
    expect(zero.orderList).toEqual([1, 2, 1, 2, 1, 2, 1, 2, 1, 1]);
  });

  it('always spaces timesteps like np.linspace', () => {
    const s = new DPMSolverSinglestepScheduler();
    s.setTimesteps(10);
    expect(Array.from(s.timesteps)).toEqual([999, 899, 799, 699, 599, 500, 400, 300, 200, 100]);
  });
});

describe('tensor ownership', () => {
  const configs: Array<[string, () => Scheduler]> = [
    ['multistep order 3', () => multistep({ solver_order: 3 })],
    [
      'multistep sde heun',
      () => multistep({ algorithm_type: 'sde-dpmsolver++', solver_type: 'heun' }),
    ],
    [
      'multistep dpmsolver thresholded',
      () =>
        multistep({
          algorithm_type: 'dpmsolver',
          final_sigmas_type: 'sigma_min',
          thresholding: true,
          prediction_type: 'v_prediction',
        }),
    ],
    [
      'singlestep order 3',
      () => {
        const s = new DPMSolverSinglestepScheduler({ solver_order: 3 });
        s.setTimesteps(12);
        return s;
      },
    ],
    [
      'singlestep sde',
      () => {
        const s = new DPMSolverSinglestepScheduler({ algorithm_type: 'sde-dpmsolver++' });
        s.setTimesteps(10);
        return s;
      },
    ],
  ];

  for (const [name, make] of configs) {
    it(`${name}: no tensors leak over a loop`, () => {
      const before = tf.memory().numTensors;
      const scheduler = make();
      const noise = seededNoise(7);
      const { sample, counts } = runLoop(scheduler, [2, 3, 4, 4], () => ({ generator: noise }));
      // Once the history is full the count stays flat from step to step.
      const tail = counts.slice(3);
      expect(new Set(tail).size).toBe(1);
      expect(tf.tidy(() => tf.all(tf.isFinite(sample)).dataSync()[0])).toBe(1);
      sample.dispose();
      scheduler.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('setTimesteps drops the history of an earlier run', () => {
    const before = tf.memory().numTensors;
    const s = multistep({ solver_order: 3 });
    const { sample } = runLoop(s);
    sample.dispose();
    s.setTimesteps(10);
    expect(tf.memory().numTensors).toBe(before);
    s.dispose();
  });
});

describe('SDE variants', () => {
  const sdeConfigs: Array<[string, () => Scheduler]> = [
    ['multistep sde-dpmsolver++', () => multistep({ algorithm_type: 'sde-dpmsolver++' })],
    [
      'multistep sde-dpmsolver',
      () => multistep({ algorithm_type: 'sde-dpmsolver', final_sigmas_type: 'sigma_min' }),
    ],
    [
      'singlestep sde-dpmsolver++',
      () => {
        const s = new DPMSolverSinglestepScheduler({ algorithm_type: 'sde-dpmsolver++' });
        s.setTimesteps(10);
        return s;
      },
    ],
  ];

  for (const [name, make] of sdeConfigs) {
    it(`${name} is reproducible from the same noise source`, () => {
      const run = (seed: number): Float32Array => {
        const s = make();
        const noise = seededNoise(seed);
        const { sample } = runLoop(s, [2, 3, 4, 4], () => ({ generator: noise }));
        const values = sample.dataSync() as Float32Array;
        sample.dispose();
        s.dispose();
        return values;
      };
      const a = run(1);
      expect(run(1)).toEqual(a);
      expect(run(2)).not.toEqual(a);
    });
  }

  it('varianceNoise takes the place of the generator', () => {
    const shape = [1, 3, 4, 4];
    const fixed = seededNoise(3).randn(shape);
    const viaNoise = multistep({ algorithm_type: 'sde-dpmsolver++' });
    const viaGenerator = multistep({ algorithm_type: 'sde-dpmsolver++' });
    const a = runLoop(viaNoise, shape, () => ({ varianceNoise: fixed })).sample;
    const b = runLoop(viaGenerator, shape, () => ({
      generator: { randn: () => fixed.clone() },
    })).sample;
    expect(a.dataSync()).toEqual(b.dataSync());
    expect(fixed.isDisposed).toBe(false);
    for (const t of [a, b, fixed]) t.dispose();
    viaNoise.dispose();
    viaGenerator.dispose();
  });
});

describe('step index, begin index and add_noise', () => {
  it('the first step finds its index by timestep lookup, unknown ones map to the last', () => {
    const s = multistep();
    const x = deterministicSample([1, 3, 2, 2]);
    const out = dummyModel(x, 500);
    const r = s.step(out, 500, x);
    expect(s.stepIndex).toBe(6);
    r.prevSample.dispose();
    r.predOriginalSample?.dispose();
    const fresh = multistep();
    const r2 = fresh.step(out, 12345, x);
    expect(fresh.stepIndex).toBe(10);
    r2.prevSample.dispose();
    r2.predOriginalSample?.dispose();
    for (const t of [x, out]) t.dispose();
    s.dispose();
    fresh.dispose();
  });

  it('setBeginIndex overrides the lookup for step and add_noise', () => {
    const s = multistep();
    s.setBeginIndex(4);
    const x = deterministicSample([1, 3, 2, 2]);
    const noise = tf.onesLike(x);
    const noisy = s.addNoise(x, noise, 999);
    const { alphaT, sigmaT } = sigmaToAlphaSigmaT(s.sigmas[4]);
    const expected = tf.tidy(() => tf.add(tf.mul(x, alphaT), tf.mul(noise, sigmaT)));
    const got = noisy.dataSync();
    expected.dataSync().forEach((v, i) => expect(got[i]).toBeCloseTo(v, 6));
    const out = dummyModel(x, 999);
    const r = s.step(out, 999, x);
    expect(s.stepIndex).toBe(5);
    for (const t of [x, noise, noisy, expected, out, r.prevSample]) t.dispose();
    r.predOriginalSample?.dispose();
    s.dispose();
  });

  it('add_noise without a begin index uses the sigma at the timestep position', () => {
    const s = multistep();
    const x = deterministicSample([1, 3, 2, 2]);
    const noise = tf.zerosLike(x);
    const noisy = s.addNoise(x, noise, 500);
    const { alphaT } = sigmaToAlphaSigmaT(s.sigmas[5]);
    const got = noisy.dataSync();
    const src = x.dataSync();
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(src[i] * alphaT, 6);
    for (const t of [x, noise, noisy]) t.dispose();
    s.dispose();
  });
});

describe('other options', () => {
  it('learned variance: the variance channels (axis 1, NCHW) are dropped', () => {
    const s = multistep({ variance_type: 'learned_range' });
    const x = deterministicSample([1, 3, 2, 2]);
    const out = tf.concat([dummyModel(x, 999), tf.onesLike(x)], 1);
    const r = s.step(out, s.timesteps[0], x);
    expect(r.prevSample.shape).toEqual([1, 3, 2, 2]);
    for (const t of [x, out, r.prevSample]) t.dispose();
    r.predOriginalSample?.dispose();
    s.dispose();
  });

  it('zero-width final step (converted ladder + sigma_min) returns the sample unchanged', () => {
    for (const [order, type] of [
      [3, 'midpoint'],
      [2, 'heun'],
    ] as const) {
      const s = multistep(
        {
          use_karras_sigmas: true,
          final_sigmas_type: 'sigma_min',
          solver_order: order,
          solver_type: type,
          lower_order_final: false,
        },
        20,
      );
      let x = deterministicSample([1, 3, 2, 2]);
      const ts = Array.from(s.timesteps);
      for (const t of ts.slice(0, -1)) {
        const out = dummyModel(x, t);
        const r = s.step(out, t, x);
        out.dispose();
        r.predOriginalSample?.dispose();
        x.dispose();
        x = r.prevSample;
      }
      const t = ts[ts.length - 1];
      const out = dummyModel(x, t);
      const r = s.step(out, t, x);
      const last = r.prevSample.dataSync();
      const before = x.dataSync();
      for (let i = 0; i < last.length; i++) expect(last[i]).toBeCloseTo(before[i], 6);
      for (const u of [x, out, r.prevSample]) u.dispose();
      r.predOriginalSample?.dispose();
      s.dispose();
    }
  });

  it('flow sigmas: shifted flow-matching plan with flow_prediction runs to a finite sample', () => {
    const s = multistep({
      use_flow_sigmas: true,
      flow_shift: 3,
      prediction_type: 'flow_prediction',
    });
    expect(s.sigmas[0]).toBeCloseTo((3 * 0.999) / (1 + 2 * 0.999), 6);
    expect(s.timesteps[0]).toBe(Math.trunc(s.sigmas[0] * 1000));
    const { sample } = runLoop(s);
    expect(tf.tidy(() => tf.all(tf.isFinite(sample)).dataSync()[0])).toBe(1);
    sample.dispose();
    s.dispose();
  });

  it('dynamic shifting: setTimesteps(n, { mu }) sets flow_shift = exp(mu)', () => {
    const s = new DPMSolverMultistepScheduler({
      use_flow_sigmas: true,
      use_dynamic_shifting: true,
    });
    s.setTimesteps(10, { mu: Math.log(2) });
    expect(s.config.flow_shift).toBeCloseTo(2, 12);
    s.dispose();
  });
});
