// Seeded Gaussian noise that is bit-identical in Node and in every browser backend: the numbers
// are drawn in plain JavaScript (integer PRNG + Box-Muller in float64, stored as float32) and only
// then uploaded, so no backend's own random kernel is involved.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import type { Tensor } from '@tensorflow/tfjs-core';
import { Xoshiro128, gaussianArray } from './gaussian';
import type { NoiseSource } from './schedulers/types';

export { Xoshiro128, gaussianArray } from './gaussian';

/** A stream of Gaussian tensors from one seed: the same seed gives the same sequence. */
export class SeededNoise implements NoiseSource {
  private readonly rng: Xoshiro128;

  constructor(readonly seed: number) {
    this.rng = new Xoshiro128(seed);
  }

  randn(shape: number[]): Tensor {
    const count = shape.reduce((a, b) => a * b, 1);
    return tf.tensor(gaussianArray(this.rng, count), shape, 'float32');
  }
}

/**
 * One independent stream per batch item, so image i of a batch is the same picture whatever the
 * batch size: item i of every draw comes from the stream seeded with seeds[i].
 */
export class BatchNoise implements NoiseSource {
  private readonly streams: Xoshiro128[];

  constructor(readonly seeds: readonly number[]) {
    this.streams = seeds.map((s) => new Xoshiro128(s));
  }

  randn(shape: number[]): Tensor {
    if (shape[0] !== this.streams.length) {
      throw new Error(`noise batch ${shape[0]} does not match ${this.streams.length} seeds`);
    }
    const perItem = shape.slice(1).reduce((a, b) => a * b, 1);
    const values = new Float32Array(perItem * shape[0]);
    this.streams.forEach((rng, i) => values.set(gaussianArray(rng, perItem), i * perItem));
    return tf.tensor(values, shape, 'float32');
  }
}
