// The forward (noising) process of DDPM, q(x_t | x_0) = N(sqrt(alphā_t) x_0, (1 - alphā_t) I),
// sampled in closed form: x_t = sqrt(alphā_t) x_0 + sqrt(1 - alphā_t) eps.
import { makeNoiseTables, type NoiseScheduleConfig } from '../engine/schedule/betas';

/** The schedule the shipped models were trained with (their cards' `scheduler` block). */
export const TRAINING_SCHEDULE: NoiseScheduleConfig = {
  num_train_timesteps: 1000,
  beta_schedule: 'squaredcos_cap_v2',
  beta_start: 0.0001,
  beta_end: 0.02,
  trained_betas: null,
};

const tableCache = new Map<string, Float32Array>();

/** alphas_cumprod of a schedule, built once per distinct config. */
export function alphasCumprodFor(config: NoiseScheduleConfig): Float32Array {
  const key = JSON.stringify(config);
  let table = tableCache.get(key);
  if (!table) {
    table = makeNoiseTables(config).alphasCumprod;
    tableCache.set(key, table);
  }
  return table;
}

export interface ForwardStats {
  alphaBar: number;
  /** Signal-to-noise ratio alphā / (1 - alphā). */
  snr: number;
}

export function forwardStats(alphaBar: number): ForwardStats {
  return { alphaBar, snr: alphaBar / (1 - alphaBar) };
}

/** One draw of x_t from x_0 and standard normal noise of the same length. */
export function forwardSample(
  x0: Float32Array,
  noise: Float32Array,
  alphaBar: number,
): Float32Array {
  if (noise.length !== x0.length) throw new Error(`noise ${noise.length} != image ${x0.length}`);
  const signal = Math.sqrt(alphaBar);
  const spread = Math.sqrt(1 - alphaBar);
  const out = new Float32Array(x0.length);
  for (let i = 0; i < x0.length; i++) out[i] = signal * x0[i] + spread * noise[i];
  return out;
}
