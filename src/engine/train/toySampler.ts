// Runs the reverse process on thousands of 2D particles with the engine's own schedulers (the
// same classes and sampler menu as the image models), recording every step for the animation and
// the learned score field on a grid at each step's noise level.
import * as tf from '@tensorflow/tfjs-core';
import { SeededNoise } from '../rng';
import { schedulerConfigFor } from '../run/schedulerConfig';
import { createScheduler } from '../schedulers';
import { alphaBarAt, type ToyTables } from './noiseTables';
import { toyScheduleConfig } from './toyConfig';
import type { ToyDenoiser } from './toyDenoiser';

export interface SampleOptions {
  sampler: string;
  steps: number;
  count: number;
  seed: number;
  /** Score arrows per side of the grid (0: none). */
  fieldSize: number;
  /** Half-width of the square the grid covers, in the model's (normalised) space. */
  fieldExtent: number;
  /**
   * Clip the predicted x_0 to [-clipX0, clipX0] per coordinate (diffusers' clip_sample, done on
   * the model's side so it works with every sampler); null: no clipping. Without it, a particle in
   * the Gaussian's tail at the last, near-pure-noise timestep gets x_0 = (x_t - sigma eps) / alpha
   * with alpha ~ 0.006 here: a small error in eps throws it hundreds of units away.
   */
  clipX0: number | null;
}

export interface ScoreField {
  /** Grid points x, y interleaved, row by row. */
  points: Float32Array;
  /** The learned score -eps / sqrt(1 - alphā) at each grid point, interleaved. */
  score: Float32Array;
}

export interface SampleTrajectory {
  /** Particle positions before each step and after the last: steps + 1 frames of [count, 2]. */
  frames: Float32Array[];
  /** The training timestep of each step (fractional for interpolating samplers). */
  timesteps: number[];
  /** Score field at each step's timestep (frames.length - 1 entries). */
  fields: ScoreField[];
  /** The Gaussian the run started from, in the model's space (for the baseline distance). */
  initialNoise: Float32Array;
}

/**
 * The model's output turned into predicted noise whatever it was trained to predict, with the
 * implied x_0 optionally clipped. x_t = a x_0 + s eps and v = a eps - s x_0 give
 * x_0 = (x_t - s eps) / a = a x_t - s v, and eps = (x_t - a x_0) / s.
 */
export function epsilonFrom(
  model: ToyDenoiser,
  xt: tf.Tensor2D,
  t: number,
  alphaBar: number,
  clipX0: number | null,
): tf.Tensor2D {
  return tf.tidy(() => {
    const out = model.predict(xt, tf.fill([xt.shape[0]], t) as tf.Tensor1D);
    const a = Math.sqrt(alphaBar);
    const s = Math.sqrt(1 - alphaBar);
    const prediction = model.config.prediction;
    if (prediction === 'epsilon' && clipX0 === null) return out;
    let x0 =
      prediction === 'sample'
        ? out
        : prediction === 'epsilon'
          ? tf.div(tf.sub(xt, tf.mul(out, s)), a)
          : tf.sub(tf.mul(xt, a), tf.mul(out, s));
    if (clipX0 !== null) x0 = tf.clipByValue(x0, -clipX0, clipX0);
    return tf.div(tf.sub(xt, tf.mul(x0, a)), s) as tf.Tensor2D;
  });
}

function fieldGrid(size: number, extent: number): Float32Array {
  const points = new Float32Array(2 * size * size);
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      const k = row * size + col;
      points[2 * k] = -extent + ((col + 0.5) * 2 * extent) / size;
      points[2 * k + 1] = extent - ((row + 0.5) * 2 * extent) / size;
    }
  }
  return points;
}

function scoreField(
  model: ToyDenoiser,
  grid: Float32Array,
  t: number,
  alphaBar: number,
  clipX0: number | null,
): ScoreField {
  const score = tf.tidy(() => {
    const xt = tf.tensor2d(grid, [grid.length / 2, 2]);
    return tf.div(epsilonFrom(model, xt, t, alphaBar, clipX0), -Math.sqrt(1 - alphaBar));
  });
  const values = score.dataSync() as Float32Array;
  score.dispose();
  return { points: grid, score: values.slice() };
}

export function sampleParticles(
  model: ToyDenoiser,
  tables: ToyTables,
  options: SampleOptions,
): SampleTrajectory {
  // The scheduler always gets epsilon (converted from the model's own target, see epsilonFrom).
  const scheduleConfig = { ...toyScheduleConfig(model.config), prediction_type: 'epsilon' };
  const { scheduler: name, config } = schedulerConfigFor(scheduleConfig, {
    sampler: options.sampler,
    spacing: null,
    sigmaSchedule: 'default',
  });
  const scheduler = createScheduler(name, config);
  const noise = new SeededNoise(options.seed);
  const grid = options.fieldSize > 0 ? fieldGrid(options.fieldSize, options.fieldExtent) : null;
  const frames: Float32Array[] = [];
  const fields: ScoreField[] = [];
  const timesteps: number[] = [];
  try {
    scheduler.setTimesteps(options.steps);
    const start = noise.randn([options.count, 2]);
    const initialNoise = start.dataSync().slice() as Float32Array;
    let sample = tf.mul(start, scheduler.initNoiseSigma) as tf.Tensor2D;
    start.dispose();
    for (const t of scheduler.timesteps) {
      const input = scheduler.scaleModelInput(sample, t) as tf.Tensor2D;
      // Sigma-based samplers carry x_t scaled by sqrt(1 + sigma^2); the model input is x_t itself,
      // which is also what the animation shows, so every sampler draws on the same scale.
      frames.push(input.dataSync().slice() as Float32Array);
      timesteps.push(t);
      const alphaBar = alphaBarAt(tables.alphasCumprod, t);
      if (grid) fields.push(scoreField(model, grid, t, alphaBar, options.clipX0));
      const output = epsilonFrom(model, input, t, alphaBar, options.clipX0);
      input.dispose();
      const result = scheduler.step(output, t, sample, { generator: noise });
      output.dispose();
      result.predOriginalSample?.dispose();
      sample.dispose();
      sample = result.prevSample as tf.Tensor2D;
    }
    frames.push(sample.dataSync().slice() as Float32Array);
    sample.dispose();
    return { frames, timesteps, fields, initialNoise };
  } finally {
    scheduler.dispose();
  }
}
