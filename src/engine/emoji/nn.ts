// Layers the emoji components share that the class U-Net (model/layers.ts) does not have:
// LayerNorm, quick_gelu, bias-free linears, multi-head attention of queries over a separate
// context, and a parameter store that turns PyTorch-named host tensors into tfjs tensors in tfjs
// layouts. Pure functions of tensors: callers run them inside tf.tidy.
import * as tf from '@tensorflow/tfjs-core';
import {
  convFilterFromTorch,
  groupNorm,
  linearWeightFromTorch,
  silu,
  type ConvParams,
  type NormParams,
} from '../model/layers';
import type { HostTensor } from '../model/weights';
import { fusedGroupNorm, fusedGroupNormAvailable, wasmKernelsReady } from '../kernels';

/** y = x W (+ b): W [in, out]. */
export interface MaybeBiasedLinear {
  weight: tf.Tensor2D;
  bias: tf.Tensor1D | null;
}

/** Parameters by PyTorch name, converted once at load and disposed together. */
export class ParamStore {
  private readonly tensors: tf.Tensor[] = [];

  constructor(private readonly host: Map<string, HostTensor>) {}

  private keep<T extends tf.Tensor>(t: T): T {
    this.tensors.push(t);
    return t;
  }

  host1(name: string): HostTensor {
    const t = this.host.get(name);
    if (!t) throw new Error(`internal: parameter ${name} was not decoded`);
    return t;
  }

  vector(name: string): tf.Tensor1D {
    return this.keep(tf.tensor1d(this.host1(name).values));
  }

  /** A matrix as stored (e.g. an embedding table [rows, dim]). */
  matrix(name: string): tf.Tensor2D {
    const { shape, values } = this.host1(name);
    return this.keep(tf.tensor2d(values, [shape[0], shape[1]]));
  }

  conv(prefix: string): ConvParams {
    return {
      filter: this.keep(convFilterFromTorch(this.host1(`${prefix}.weight`))),
      bias: this.vector(`${prefix}.bias`),
    };
  }

  linear(prefix: string, bias = true): MaybeBiasedLinear {
    return {
      weight: this.keep(linearWeightFromTorch(this.host1(`${prefix}.weight`))),
      bias: bias ? this.vector(`${prefix}.bias`) : null,
    };
  }

  /**
   * Several bias-free (or biased) linears reading the same input as one [in, sum(out)] matmul:
   * q, k and v side by side, the layout the fused attention kernel reads.
   */
  stackedLinear(prefixes: string[], bias: boolean): MaybeBiasedLinear {
    const parts = prefixes.map((p) => linearWeightFromTorch(this.host1(`${p}.weight`)));
    const weight = this.keep(tf.concat(parts, 1));
    tf.dispose(parts);
    let b: tf.Tensor1D | null = null;
    if (bias) {
      const biases = prefixes.map((p) => tf.tensor1d(this.host1(`${p}.bias`).values));
      b = this.keep(tf.concat(biases));
      tf.dispose(biases);
    }
    return { weight, bias: b };
  }

  norm(prefix: string): NormParams {
    return { gamma: this.vector(`${prefix}.weight`), beta: this.vector(`${prefix}.bias`) };
  }

  dispose(): void {
    tf.dispose(this.tensors);
    this.tensors.length = 0;
  }
}

/** x W + b over the last axis of a [B, N, in] or [M, in] tensor, as one fused matmul. */
export function dense<T extends tf.Tensor2D | tf.Tensor3D>(x: T, p: MaybeBiasedLinear): T {
  const out = p.weight.shape[1];
  const bias = p.bias ?? undefined;
  if (x.rank === 2) return tf.fused.matMul({ a: x as tf.Tensor2D, b: p.weight, bias }) as T;
  const [b, n, i] = x.shape as [number, number, number];
  const flat = tf.fused.matMul({ a: tf.reshape(x, [b * n, i]), b: p.weight, bias });
  return tf.reshape(flat, [b, n, out]) as T;
}

/**
 * nn.LayerNorm over the last axis (biased variance, as PyTorch). On wasm one fused GroupNorm call:
 * every token as an "image" of one position and one group is exactly LayerNorm, where the tfjs
 * ops take about nine kernels. (Only on wasm, where the parity test runs it: the WebGPU/WebGL
 * GroupNorm shaders are not tested with one position per image.)
 */
export function layerNorm<T extends tf.Tensor>(x: T, p: NormParams, eps: number): T {
  const c = x.shape[x.rank - 1];
  if (wasmKernelsReady()) {
    const tokens = tf.reshape(x, [-1, 1, 1, c]) as tf.Tensor4D;
    const normed = fusedGroupNorm(tokens, p.gamma, p.beta, { groups: 1, eps, silu: false });
    return tf.reshape(normed, x.shape) as T;
  }
  const { mean, variance } = tf.moments(x, x.rank - 1, true);
  const normalised = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normalised, p.gamma), p.beta) as T;
}

/** CLIP's quick_gelu: x * sigmoid(1.702 x). */
export function quickGelu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(tf.mul(x, 1.702))) as T;
}

/** [B, N, heads * d] -> [B * heads, N, d]. */
export function splitHeads(z: tf.Tensor3D, heads: number): tf.Tensor3D {
  const [b, n, c] = z.shape;
  const d = c / heads;
  return tf.reshape(tf.transpose(tf.reshape(z, [b, n, heads, d]), [0, 2, 1, 3]), [b * heads, n, d]);
}

/** [B * heads, N, d] -> [B, N, heads * d]. */
export function mergeHeads(z: tf.Tensor3D, heads: number): tf.Tensor3D {
  const [bh, n, d] = z.shape;
  const b = bh / heads;
  return tf.reshape(tf.transpose(tf.reshape(z, [b, heads, n, d]), [0, 2, 1, 3]), [b, n, heads * d]);
}

/** softmax(q k^T / sqrt(d)) v with heads already split: q [BH, N, d], k and v [BH, M, d]. */
export function scaledDotProduct(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D): tf.Tensor3D {
  const d = q.shape[2];
  const scores = tf.matMul(tf.mul(q, 1 / Math.sqrt(d)), k, false, true);
  return tf.matMul(tf.softmax(scores), v);
}

/**
 * act(GroupNorm(x + add)), add [B, C] per image and channel or none: the fused kernel where it runs
 * (wasm, WebGPU, WebGL), else the tfjs ops, which give the same numbers.
 */
export function normalise(
  x: tf.Tensor4D,
  p: NormParams,
  groups: number,
  eps: number,
  withSilu: boolean,
  add?: tf.Tensor2D,
): tf.Tensor4D {
  if (fusedGroupNormAvailable()) {
    return fusedGroupNorm(x, p.gamma, p.beta, { groups, eps, silu: withSilu }, add);
  }
  const [b, , , c] = x.shape;
  const normed = groupNorm(add ? tf.add(x, tf.reshape(add, [b, 1, 1, c])) : x, p, groups, eps);
  return withSilu ? silu(normed) : normed;
}
