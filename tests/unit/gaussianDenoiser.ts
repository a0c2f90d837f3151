// The exact optimal denoiser for Gaussian data, x_0 ~ N(mu_c, s²) per pixel with a class-dependent
// mean. Its epsilon prediction is known in closed form, so a correct sampler must turn noise into
// samples with mean mu_c and standard deviation s: a real end-to-end check of the sampling math.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor4D } from '@tensorflow/tfjs-core';
import type { DenoiseModel } from '../../src/engine/denoiser';
import type { RunModel } from '../../src/engine/run/diffusionRun';
import { makeNoiseTables, type NoiseScheduleConfig } from '../../src/engine/schedule/betas';
import { interp } from '../../src/engine/schedule/numpy';

// Stable Diffusion's schedule: the one most samplers and their defaults were tuned on.
export const SCHEDULE: NoiseScheduleConfig = {
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  trained_betas: null,
};

export const DATA_STD = 0.5;
export const classMean = (c: number) => (c === 10 ? 0 : -0.45 + 0.1 * c);

export class GaussianDenoiser implements DenoiseModel {
  readonly predictionType = 'epsilon' as const;
  readonly nullClass = 10;
  readonly imageShape = [8, 8, 1] as const;
  calls = 0;
  private readonly sigmas: number[];

  constructor(config: NoiseScheduleConfig = SCHEDULE) {
    const { alphasCumprod } = makeNoiseTables(config);
    this.sigmas = Array.from(alphasCumprod, (a) => Math.sqrt((1 - a) / a));
  }

  predict(x: Tensor4D, timesteps: number[], classes: number[]): Tensor4D {
    this.calls++;
    const positions = this.sigmas.map((_, i) => i);
    return tf.tidy(() => {
      const perItem = timesteps.map((t, i) => {
        const sigmaK = interp(t, positions, this.sigmas);
        const alpha = 1 / Math.sqrt(1 + sigmaK * sigmaK);
        const sigma = sigmaK * alpha;
        const mu = classMean(classes[i]);
        const s2 = DATA_STD * DATA_STD;
        const xi = x.slice([i, 0, 0, 0], [1, -1, -1, -1]);
        // E[x0 | x_t] for Gaussian data, then eps = (x_t - alpha E[x0|x_t]) / sigma.
        const gain = (alpha * s2) / (alpha * alpha * s2 + sigma * sigma);
        const x0 = xi
          .sub(alpha * mu)
          .mul(gain)
          .add(mu);
        return xi.sub(x0.mul(alpha)).div(sigma);
      });
      return tf.concat(perItem) as Tensor4D;
    });
  }
}

export function meanAndStd(values: Float32Array): { mean: number; std: number } {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let sq = 0;
  for (const v of values) sq += (v - mean) ** 2;
  return { mean, std: Math.sqrt(sq / values.length) };
}

/** A run model around a Gaussian denoiser on `schedule` (epsilon prediction, no clipping). */
export function gaussianRunModel(
  schedule: NoiseScheduleConfig = SCHEDULE,
  denoiser: DenoiseModel = new GaussianDenoiser(schedule),
): RunModel {
  return {
    denoiser,
    numClasses: 10,
    scheduleConfig: { ...schedule, prediction_type: 'epsilon', clip_sample: false },
  };
}
