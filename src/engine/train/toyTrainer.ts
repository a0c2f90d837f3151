// Trains the toy denoiser on 2D points with the DDPM objective: pick a point x_0, a timestep t
// and noise eps, form x_t = sqrt(alphā_t) x_0 + sqrt(1 - alphā_t) eps, and regress the network's
// output on the chosen target (eps, v or x_0) with Adam. Runs the same in Node and in a worker.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { Xoshiro128, gaussianArray } from '../gaussian';
import type { Points } from './datasets';
import { bucketOf, toyTables, type ToyTables } from './noiseTables';
import type { ToyModelConfig, ToyTrainConfig } from './toyConfig';
import { ToyDenoiser, initialWeights } from './toyDenoiser';

export const LOSS_BUCKETS = 10;
const EMA_DECAY = 0.98;
/**
 * A loss this large has left any useful regime (the targets have unit variance, an untrained
 * network scores about 1): Adam's bounded steps can take a long time to reach an actual NaN.
 */
export const EXPLODED_LOSS = 1e4;
/** How often the weights are copied aside as the ones to fall back to after a divergence. */
const SNAPSHOT_EVERY = 20;

export interface StepReport {
  step: number;
  loss: number;
  lossEma: number;
}

export class TrainingDiverged extends Error {
  constructor(
    readonly step: number,
    readonly restoredStep: number,
  ) {
    super(
      `training diverged at step ${step} (the loss became NaN or infinite); ` +
        `the weights of step ${restoredStep} were kept. Try a smaller learning rate.`,
    );
  }
}

/** A batch of noised points and what the network should predict for them. */
export interface NoisedBatch {
  xt: Float32Array;
  timesteps: Int32Array;
  target: Float32Array;
}

export function noisedBatch(
  data: Points,
  tables: ToyTables,
  config: ToyModelConfig,
  batchSize: number,
  rng: Xoshiro128,
): NoisedBatch {
  const n = data.length / 2;
  const noise = gaussianArray(rng, 2 * batchSize);
  const xt = new Float32Array(2 * batchSize);
  const target = new Float32Array(2 * batchSize);
  const timesteps = new Int32Array(batchSize);
  for (let b = 0; b < batchSize; b++) {
    const i = Math.min(n - 1, Math.floor(rng.nextUniform() * n));
    const t = Math.min(
      config.numTrainTimesteps - 1,
      Math.floor(rng.nextUniform() * config.numTrainTimesteps),
    );
    timesteps[b] = t;
    const a = Math.sqrt(tables.alphasCumprod[t]);
    const s = Math.sqrt(1 - tables.alphasCumprod[t]);
    for (let d = 0; d < 2; d++) {
      const x0 = data[2 * i + d];
      const eps = noise[2 * b + d];
      xt[2 * b + d] = a * x0 + s * eps;
      target[2 * b + d] =
        config.prediction === 'epsilon'
          ? eps
          : config.prediction === 'sample'
            ? x0
            : a * eps - s * x0;
    }
  }
  return { xt, timesteps, target };
}

export class ToyTrainer {
  readonly model: ToyDenoiser;
  readonly tables: ToyTables;
  private readonly optimizer: tf.Optimizer;
  private readonly rng: Xoshiro128;
  step = 0;
  lossEma = NaN;
  /** EMA of the loss per timestep bucket (NaN until a bucket has been seen). */
  readonly bucketEma = new Float64Array(LOSS_BUCKETS).fill(NaN);
  /**
   * The exponential moving average of the weights (what Sample uses): Adam at a constant rate
   * keeps the raw weights jittering around a good solution; their average sits nearer to it.
   */
  readonly averaged: ToyDenoiser;
  private goodWeights: { step: number; weights: Float32Array[]; averaged: Float32Array[] };

  constructor(
    readonly modelConfig: ToyModelConfig,
    readonly trainConfig: ToyTrainConfig,
    private readonly data: Points,
    weights?: Float32Array[],
    averagedWeights?: Float32Array[],
  ) {
    if (data.length < 2) throw new Error('training needs at least one point');
    const start = weights ?? initialWeights(modelConfig, trainConfig.seed);
    this.model = new ToyDenoiser(modelConfig, start);
    this.averaged = new ToyDenoiser(modelConfig, averagedWeights ?? start);
    this.tables = toyTables(modelConfig);
    this.optimizer = tf.train.adam(trainConfig.learningRate);
    this.rng = new Xoshiro128(trainConfig.seed + 1);
    this.goodWeights = this.snapshot();
  }

  private snapshot() {
    return {
      step: this.step,
      weights: this.model.readWeights(),
      averaged: this.averaged.readWeights(),
    };
  }

  /** avg <- d avg + (1 - d) w, with d warming up as (1 + step) / (10 + step) (as in diffusers' EMAModel). */
  private updateAverage(): void {
    const target = this.trainConfig.emaDecay;
    const decay = Math.min(target, (1 + this.step) / (10 + this.step));
    tf.tidy(() => {
      this.averaged.variables.forEach((avg, i) => {
        avg.assign(tf.add(tf.mul(avg, decay), tf.mul(this.model.variables[i], 1 - decay)));
      });
    });
  }

  /** One Adam step on a fresh batch. Throws TrainingDiverged (weights restored) on NaN/Inf. */
  trainStep(): StepReport {
    const batch = noisedBatch(
      this.data,
      this.tables,
      this.modelConfig,
      this.trainConfig.batchSize,
      this.rng,
    );
    const candidate = this.step % SNAPSHOT_EVERY === 0 ? this.snapshot() : null;
    const n = this.trainConfig.batchSize;
    let perSample: tf.Tensor | null = null;
    const lossTensor = tf.tidy(() => {
      const xt = tf.tensor2d(batch.xt, [n, 2]);
      const t = tf.tensor1d(Float32Array.from(batch.timesteps));
      const target = tf.tensor2d(batch.target, [n, 2]);
      const cost = this.optimizer.minimize(() => {
        const errors = tf.mean(tf.square(tf.sub(this.model.predict(xt, t), target)), 1);
        perSample = tf.keep(errors);
        return tf.mean(errors) as tf.Scalar;
      }, true);
      return cost ?? tf.scalar(NaN);
    });
    const loss = lossTensor.dataSync()[0];
    lossTensor.dispose();
    const losses = perSample
      ? ((perSample as tf.Tensor).dataSync() as Float32Array)
      : new Float32Array(0);
    (perSample as tf.Tensor | null)?.dispose();
    if (!Number.isFinite(loss) || loss > EXPLODED_LOSS) {
      this.model.writeWeights(this.goodWeights.weights);
      this.averaged.writeWeights(this.goodWeights.averaged);
      throw new TrainingDiverged(this.step + 1, this.goodWeights.step);
    }
    // Weights count as good while their loss is not jumping above the recent average.
    const steady = Number.isNaN(this.lossEma) || loss <= 2 * this.lossEma;
    if (candidate && steady) this.goodWeights = candidate;
    this.step += 1;
    this.updateAverage();
    this.lossEma = Number.isNaN(this.lossEma)
      ? loss
      : EMA_DECAY * this.lossEma + (1 - EMA_DECAY) * loss;
    this.updateBuckets(batch.timesteps, losses);
    return { step: this.step, loss, lossEma: this.lossEma };
  }

  private updateBuckets(timesteps: Int32Array, losses: Float32Array): void {
    const sums = new Float64Array(LOSS_BUCKETS);
    const counts = new Float64Array(LOSS_BUCKETS);
    timesteps.forEach((t, i) => {
      const b = bucketOf(t, this.modelConfig.numTrainTimesteps, LOSS_BUCKETS);
      sums[b] += losses[i];
      counts[b] += 1;
    });
    for (let b = 0; b < LOSS_BUCKETS; b++) {
      if (counts[b] === 0) continue;
      const mean = sums[b] / counts[b];
      const old = this.bucketEma[b];
      this.bucketEma[b] = Number.isNaN(old) ? mean : EMA_DECAY * old + (1 - EMA_DECAY) * mean;
    }
  }

  dispose(): void {
    this.model.dispose();
    this.averaged.dispose();
    this.optimizer.dispose();
  }
}
