// The toy denoiser: an MLP on 2D points. Sinusoidal features of x, y and t (the input features
// let a small MLP bend sharply around thin shapes; a plain MLP on (x, y) learns blurry fields),
// then residual blocks h + SiLU(W h + b), then a linear read-out of the 2D prediction.
import * as tf from '@tensorflow/tfjs-core';
import { Xoshiro128, gaussianArray } from '../gaussian';
import type { ToyModelConfig } from './toyConfig';

/** Frequency scale of the input features (tiny-diffusion's 25 for unit-scale data). */
const INPUT_FEATURE_SCALE = 25;

export interface ParameterSpec {
  name: string;
  shape: number[];
}

/** Every weight of the network with its shape, in a fixed order (the export format relies on it). */
export function parameterSpecs(config: ToyModelConfig): ParameterSpec[] {
  const { width, depth, embeddingSize } = config;
  const specs: ParameterSpec[] = [
    { name: 'in.weight', shape: [3 * embeddingSize, width] },
    { name: 'in.bias', shape: [width] },
  ];
  for (let i = 0; i < depth; i++) {
    specs.push({ name: `block${i}.weight`, shape: [width, width] });
    specs.push({ name: `block${i}.bias`, shape: [width] });
  }
  specs.push({ name: 'out.weight', shape: [width, 2] }, { name: 'out.bias', shape: [2] });
  return specs;
}

export function parameterCount(config: ToyModelConfig): number {
  return parameterSpecs(config).reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
}

/** He-normal weights and zero biases, drawn from the seeded RNG (the same on every backend). */
export function initialWeights(config: ToyModelConfig, seed: number): Float32Array[] {
  const rng = new Xoshiro128(seed);
  return parameterSpecs(config).map(({ name, shape }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    if (name.endsWith('.bias')) return new Float32Array(size);
    const values = gaussianArray(rng, size);
    // A small read-out starts the prediction near 0, the mean of every target.
    const std = Math.sqrt((name === 'out.weight' ? 0.01 : 2) / shape[0]);
    return values.map((v) => v * std);
  });
}

/** [N] -> [N, size]: sin and cos of value * frequency, frequencies geometric from 1 to 1/10^4. */
function sinusoidal(value: tf.Tensor1D, size: number, scale: number): tf.Tensor2D {
  const half = size / 2;
  const freqs = Array.from(
    { length: half },
    (_, i) => scale * Math.exp((-Math.log(10000) * i) / Math.max(half - 1, 1)),
  );
  const angles = tf.mul(tf.reshape(value, [-1, 1]), tf.tensor2d(freqs, [1, half]));
  return tf.concat([tf.sin(angles), tf.cos(angles)], 1) as tf.Tensor2D;
}

/** tfjs variable names are global: each network gets its own prefix. */
let instances = 0;

const silu = (x: tf.Tensor): tf.Tensor => tf.mul(x, tf.sigmoid(x));

/**
 * x W + b with its gradient written with explicit transposes: tfjs-wasm runs a matMul with a
 * transposed operand on a slow generic path (5-10x slower here than transpose + plain matMul),
 * and the built-in gradient of matMul uses exactly those.
 */
const linear = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      const dy2 = dy as tf.Tensor2D;
      return [tf.matMul(dy2, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy2), tf.sum(dy2, 0)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (
  x: tf.Tensor,
  w: tf.Tensor,
  b: tf.Tensor,
) => tf.Tensor2D;

export class ToyDenoiser {
  readonly variables: tf.Variable[];

  constructor(
    readonly config: ToyModelConfig,
    weights: Float32Array[],
  ) {
    const specs = parameterSpecs(config);
    if (weights.length !== specs.length) {
      throw new Error(`expected ${specs.length} weight arrays, got ${weights.length}`);
    }
    const prefix = `toy${++instances}`;
    // tidy frees the initial tensors; variables survive it.
    this.variables = tf.tidy(() =>
      specs.map((spec, i) =>
        tf.variable(tf.tensor(weights[i], spec.shape, 'float32'), true, `${prefix}/${spec.name}`),
      ),
    );
  }

  /**
   * The prediction (epsilon, v or x_0, as trained) for points x [N, 2] at training timesteps
   * t [N] (fractional allowed: the sigma-based samplers interpolate between timesteps).
   */
  predict(x: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D {
    return tf.tidy(() => {
      const { embeddingSize: e, numTrainTimesteps, depth } = this.config;
      const v = this.variables;
      const [px, py] = tf.split(x, 2, 1);
      // Time on diffusers' 0..1000 scale whatever T is, so the features spread the same way.
      const tScaled = tf.mul(t, 1000 / numTrainTimesteps) as tf.Tensor1D;
      const features = tf.concat(
        [
          sinusoidal(tf.reshape(px, [-1]), e, INPUT_FEATURE_SCALE),
          sinusoidal(tf.reshape(py, [-1]), e, INPUT_FEATURE_SCALE),
          sinusoidal(tScaled, e, 1),
        ],
        1,
      );
      let h = silu(linear(features, v[0], v[1]));
      for (let i = 0; i < depth; i++) h = tf.add(h, silu(linear(h, v[2 + 2 * i], v[3 + 2 * i])));
      return linear(h, v[2 + 2 * depth], v[3 + 2 * depth]);
    });
  }

  readWeights(): Float32Array[] {
    return this.variables
      .map((variable) => variable.dataSync() as Float32Array)
      .map((a) => a.slice());
  }

  writeWeights(weights: Float32Array[]): void {
    this.variables.forEach((variable, i) => {
      const value = tf.tensor(weights[i], variable.shape, 'float32');
      variable.assign(value);
      value.dispose();
    });
  }

  dispose(): void {
    this.variables.forEach((variable) => variable.dispose());
  }
}
