// Seeded Gaussian noise that is bit-identical in Node and in every browser backend: the numbers
// are drawn in plain JavaScript (integer PRNG + Box-Muller in float64, stored as float32) and only
// then uploaded, so no backend's own random kernel is involved.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { NoiseSource } from './schedulers/types';

/** splitmix32: turns any 32-bit seed into well-mixed state words. */
function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** xoshiro128** (Blackman & Vigna): fast, 2^128 period, only 32-bit integer ops. */
export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    const mix = splitmix32(seed);
    this.s0 = mix();
    this.s1 = mix();
    this.s2 = mix();
    this.s3 = mix();
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in (0, 1): never 0, so log() in Box-Muller stays finite. */
  nextUniform(): number {
    return (this.nextUint32() + 0.5) / 4294967296;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Standard normal samples by the Box-Muller transform, two per pair of uniforms. */
export function gaussianArray(rng: Xoshiro128, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(rng.nextUniform()));
    const angle = 2 * Math.PI * rng.nextUniform();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < count) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}

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
