// Beta schedules and alphas_cumprod exactly as diffusers builds them (float32 tensors), so every
// table downstream (sigmas, timesteps, step coefficients) matches diffusers to the last bit that
// matters. See tests/conformance/FORMAT.md §9 for where float32 rounding happens.
import { f32, torchLinspaceF32 } from './numpy';

export type BetaScheduleName =
  'linear' | 'scaled_linear' | 'squaredcos_cap_v2' | 'sigmoid' | 'exp' | 'laplace';

/** The config keys (diffusers spelling) that decide the training noise schedule. */
export interface NoiseScheduleConfig {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: BetaScheduleName;
  trained_betas: number[] | null;
  rescale_betas_zero_snr?: boolean;
}

export type AlphaTransform = 'cosine' | 'exp' | 'laplace';

/** diffusers' `betas_for_alpha_bar`: discretises a continuous alpha_bar(t), capped at maxBeta. */
export function betasForAlphaBar(
  numDiffusionTimesteps: number,
  maxBeta = 0.999,
  alphaTransform: AlphaTransform = 'cosine',
): Float32Array {
  const alphaBar = (t: number): number => {
    if (alphaTransform === 'cosine') return Math.cos((((t + 0.008) / 1.008) * Math.PI) / 2) ** 2;
    if (alphaTransform === 'exp') return Math.exp(t * -12.0);
    const lmb = -0.5 * Math.sign(0.5 - t || 1) * Math.log(1 - 2 * Math.abs(0.5 - t) + 1e-6);
    const snr = Math.exp(lmb);
    return Math.sqrt(snr / (1 + snr));
  };
  const betas = new Float32Array(numDiffusionTimesteps);
  for (let i = 0; i < numDiffusionTimesteps; i++) {
    const t1 = i / numDiffusionTimesteps;
    const t2 = (i + 1) / numDiffusionTimesteps;
    betas[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  }
  return betas;
}

/** Running product in double precision, each output stored as float32 (torch.cumprod on CPU). */
export function cumprodF32(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  let acc = 1;
  for (let i = 0; i < values.length; i++) {
    acc *= values[i];
    out[i] = acc;
  }
  return out;
}

/**
 * Zero terminal SNR (Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are
 * Flawed", Algorithm 1): shift and scale sqrt(alphas_cumprod) so the last step is pure noise.
 */
export function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const alphas = betas.map((b) => f32(1 - b));
  const alphasCumprod = cumprodF32(alphas);
  const sqrtBar = alphasCumprod.map((a) => f32(Math.sqrt(a)));
  const first = sqrtBar[0];
  const last = sqrtBar[sqrtBar.length - 1];
  const scale = f32(first / f32(first - last));
  const shifted = sqrtBar.map((s) => f32(f32(s - last) * scale));
  const alphaBar = shifted.map((s) => f32(s * s));
  const out = new Float32Array(betas.length);
  out[0] = f32(1 - alphaBar[0]);
  for (let i = 1; i < betas.length; i++) out[i] = f32(1 - f32(alphaBar[i] / alphaBar[i - 1]));
  return out;
}

export function makeBetas(config: NoiseScheduleConfig): Float32Array {
  const n = config.num_train_timesteps;
  let betas: Float32Array;
  if (config.trained_betas != null) {
    betas = Float32Array.from(config.trained_betas);
  } else {
    switch (config.beta_schedule) {
      case 'linear':
        betas = torchLinspaceF32(config.beta_start, config.beta_end, n);
        break;
      case 'scaled_linear':
        betas = torchLinspaceF32(Math.sqrt(config.beta_start), Math.sqrt(config.beta_end), n).map(
          (b) => f32(b * b),
        );
        break;
      case 'squaredcos_cap_v2':
        betas = betasForAlphaBar(n, 0.999, 'cosine');
        break;
      case 'exp':
        betas = betasForAlphaBar(n, 0.999, 'exp');
        break;
      case 'laplace':
        betas = betasForAlphaBar(n, 0.999, 'laplace');
        break;
      case 'sigmoid': {
        const range = f32(config.beta_end - config.beta_start);
        betas = torchLinspaceF32(-6, 6, n).map((x) =>
          f32(f32(f32(1 / (1 + Math.exp(-x))) * range) + f32(config.beta_start)),
        );
        break;
      }
      default:
        throw new Error(`beta_schedule '${String(config.beta_schedule)}' is not implemented`);
    }
  }
  if (config.rescale_betas_zero_snr) betas = rescaleZeroTerminalSnr(betas);
  return betas;
}

/** The tables every discrete-time scheduler starts from. */
export interface NoiseTables {
  betas: Float32Array;
  alphas: Float32Array;
  alphasCumprod: Float32Array;
}

export function makeNoiseTables(config: NoiseScheduleConfig): NoiseTables {
  const betas = makeBetas(config);
  const alphas = betas.map((b) => f32(1 - b));
  const alphasCumprod = cumprodF32(alphas);
  // diffusers: "Close to 0 without being 0 so first sigma is not inf" (FP16 smallest positive subnormal).
  if (config.rescale_betas_zero_snr) alphasCumprod[alphasCumprod.length - 1] = 2 ** -24;
  return { betas, alphas, alphasCumprod };
}

/** sigma_t = sqrt((1 - alphā_t) / alphā_t), the noise-to-signal ratio k-diffusion samplers use. */
export function sigmasFromAlphasCumprod(alphasCumprod: ArrayLike<number>): Float64Array {
  const out = new Float64Array(alphasCumprod.length);
  for (let i = 0; i < alphasCumprod.length; i++) {
    out[i] = Math.sqrt((1 - alphasCumprod[i]) / alphasCumprod[i]);
  }
  return out;
}

/** log-SNR lambda_t = log(alpha_t / sigma_t), with alpha_t = sqrt(alphā), sigma_t = sqrt(1 - alphā). */
export function logSnr(alphasCumprod: ArrayLike<number>): Float64Array {
  const out = new Float64Array(alphasCumprod.length);
  for (let i = 0; i < alphasCumprod.length; i++) {
    out[i] = 0.5 * Math.log(alphasCumprod[i]) - 0.5 * Math.log(1 - alphasCumprod[i]);
  }
  return out;
}
