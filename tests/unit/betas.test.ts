import { describe, expect, it } from 'vitest';
import {
  betasForAlphaBar,
  logSnr,
  makeNoiseTables,
  rescaleZeroTerminalSnr,
  type NoiseScheduleConfig,
} from '../../src/engine/schedule/betas';
import { roundHalfEven, torchLinspaceF32, linspace } from '../../src/engine/schedule/numpy';
import { karrasSigmas } from '../../src/engine/schedule/sigmas';

const base: NoiseScheduleConfig = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
};

describe('beta schedules', () => {
  for (const schedule of ['linear', 'scaled_linear', 'squaredcos_cap_v2', 'sigmoid'] as const) {
    it(`${schedule}: alphas_cumprod is strictly decreasing within (0, 1)`, () => {
      const { alphasCumprod } = makeNoiseTables({ ...base, beta_schedule: schedule });
      expect(alphasCumprod.length).toBe(1000);
      for (let i = 0; i < alphasCumprod.length; i++) {
        expect(alphasCumprod[i]).toBeGreaterThan(0);
        expect(alphasCumprod[i]).toBeLessThan(1);
        if (i > 0) expect(alphasCumprod[i]).toBeLessThan(alphasCumprod[i - 1]);
      }
    });
  }

  it('linear betas are torch.linspace in float32 (exact ends, constant step)', () => {
    const betas = torchLinspaceF32(0.0001, 0.02, 1000);
    expect(betas[0]).toBe(Math.fround(0.0001));
    expect(betas[999]).toBe(Math.fround(0.02));
    expect(betas[500] - betas[499]).toBeCloseTo((0.02 - 0.0001) / 999, 8);
  });

  it('cosine schedule follows alphā(t) = cos²((t/T + s)/(1 + s) · π/2) (Nichol & Dhariwal)', () => {
    const { alphasCumprod } = makeNoiseTables({ ...base, beta_schedule: 'squaredcos_cap_v2' });
    const f = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (const i of [0, 100, 500, 900]) {
      expect(alphasCumprod[i]).toBeCloseTo(f((i + 1) / 1000) / f(0), 5);
    }
    // log-SNR falls monotonically from about +10 to very negative; at t = T/2 it is near 0.
    const snr = logSnr(alphasCumprod);
    expect(snr[0]).toBeGreaterThan(4);
    expect(Math.abs(snr[499])).toBeLessThan(0.1);
    expect(snr[999]).toBeLessThan(-6);
    for (let i = 1; i < snr.length; i++) expect(snr[i]).toBeLessThan(snr[i - 1]);
  });

  it('caps cosine betas at 0.999', () => {
    const betas = betasForAlphaBar(1000);
    expect(Math.max(...betas)).toBeLessThanOrEqual(Math.fround(0.999));
  });

  it('zero terminal SNR rescaling makes the last alphā ~0 and keeps the first', () => {
    const plain = makeNoiseTables({
      ...base,
      beta_schedule: 'scaled_linear',
      beta_end: 0.012,
      beta_start: 0.00085,
    });
    const rescaled = makeNoiseTables({
      ...base,
      beta_schedule: 'scaled_linear',
      beta_end: 0.012,
      beta_start: 0.00085,
      rescale_betas_zero_snr: true,
    });
    expect(rescaled.alphasCumprod[999]).toBe(2 ** -24);
    expect(rescaled.alphasCumprod[0]).toBeCloseTo(plain.alphasCumprod[0], 6);
    const betas = rescaleZeroTerminalSnr(plain.betas);
    expect(betas[999]).toBe(1);
  });

  it('trained_betas are used as given', () => {
    const { betas } = makeNoiseTables({
      ...base,
      num_train_timesteps: 3,
      trained_betas: [0.1, 0.2, 0.3],
    });
    expect(Array.from(betas)).toEqual([0.1, 0.2, 0.3].map(Math.fround));
  });
});

describe('numpy helpers', () => {
  it('round half to even like numpy', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven)).toEqual([
      0, 2, 2, -0, -2, 2, 3,
    ]);
  });
  it('linspace hits both ends exactly', () => {
    const v = linspace(0, 999, 21);
    expect(v[0]).toBe(0);
    expect(v[20]).toBe(999);
    expect(v[1]).toBeCloseTo(49.95, 12);
  });
  it('karras sigmas run from sigma_max to sigma_min, decreasing', () => {
    const s = karrasSigmas(0.03, 80, 10);
    expect(s[0]).toBeCloseTo(80, 10);
    expect(s[9]).toBeCloseTo(0.03, 10);
    for (let i = 1; i < s.length; i++) expect(s[i]).toBeLessThan(s[i - 1]);
  });
});
