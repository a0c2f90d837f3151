// Per-timestep coefficients of the forward posterior q(x_{t-1} | x_t, x_0) and of the reverse
// model's fixed variances, in float64 from the model's betas (improved-diffusion's
// GaussianDiffusion.__init__).
import { makeBetas, type NoiseScheduleConfig } from '../schedule/betas';

/**
 * fixed_small: the posterior variance beta-tilde_t (its log clipped at t = 0 to the value at
 * t = 1, where beta-tilde is 0); fixed_large: beta_t (with beta-tilde_1 at t = 0), which Ho et al.
 * found gives a better bound.
 */
export type FixedVariance = 'fixed_small' | 'fixed_large';

export interface VbTables {
  numTimesteps: number;
  betas: Float64Array;
  alphasCumprod: Float64Array;
  posteriorMeanCoef1: Float64Array;
  posteriorMeanCoef2: Float64Array;
  /** log beta-tilde_t, clipped at t = 0: the true posterior's and fixed_small's log variance. */
  posteriorLogVarianceClipped: Float64Array;
  /** log beta_t with log beta-tilde_1 at t = 0: fixed_large's log variance. */
  largeLogVariance: Float64Array;
}

export function makeVbTables(betasIn: ArrayLike<number>): VbTables {
  const n = betasIn.length;
  const betas = Float64Array.from(betasIn);
  const alphasCumprod = new Float64Array(n);
  let acc = 1;
  for (let t = 0; t < n; t++) {
    acc *= 1 - betas[t];
    alphasCumprod[t] = acc;
  }
  const posteriorVariance = new Float64Array(n);
  const posteriorMeanCoef1 = new Float64Array(n);
  const posteriorMeanCoef2 = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const prev = t === 0 ? 1 : alphasCumprod[t - 1];
    const oneMinus = 1 - alphasCumprod[t];
    posteriorVariance[t] = (betas[t] * (1 - prev)) / oneMinus;
    posteriorMeanCoef1[t] = (betas[t] * Math.sqrt(prev)) / oneMinus;
    posteriorMeanCoef2[t] = ((1 - prev) * Math.sqrt(1 - betas[t])) / oneMinus;
  }
  const first = n > 1 ? posteriorVariance[1] : betas[0];
  const posteriorLogVarianceClipped = posteriorVariance.map((v, t) =>
    Math.log(t === 0 ? first : v),
  );
  const largeLogVariance = betas.map((b, t) => Math.log(t === 0 ? first : b));
  return {
    numTimesteps: n,
    betas,
    alphasCumprod,
    posteriorMeanCoef1,
    posteriorMeanCoef2,
    posteriorLogVarianceClipped,
    largeLogVariance,
  };
}

/** The tables for a model card's scheduler config (diffusers keys). */
export function vbTablesFromScheduler(config: Record<string, unknown>): VbTables {
  const schedule: NoiseScheduleConfig = {
    num_train_timesteps: Number(config.num_train_timesteps ?? 1000),
    beta_start: Number(config.beta_start ?? 0.0001),
    beta_end: Number(config.beta_end ?? 0.02),
    beta_schedule: (config.beta_schedule ?? 'linear') as NoiseScheduleConfig['beta_schedule'],
    trained_betas: (config.trained_betas ?? null) as number[] | null,
    rescale_betas_zero_snr: Boolean(config.rescale_betas_zero_snr ?? false),
  };
  return makeVbTables(makeBetas(schedule));
}
