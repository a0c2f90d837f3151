// The U-Net's building blocks in tfjs-core ops, NHWC, each matching its PyTorch counterpart in
// training/unet.py. Every function here is pure: callers run them inside tf.tidy.
import * as tf from '@tensorflow/tfjs-core';
import type { HostTensor } from './weights';

export interface ConvParams {
  /** HWIO, as tfjs wants it. */
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
}

export interface LinearParams {
  /** [in, out]: PyTorch's [out, in] transposed, so y = x W + b is a plain matMul. */
  weight: tf.Tensor2D;
  bias: tf.Tensor1D;
}

export interface NormParams {
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
}

/** PyTorch conv weight OIHW -> tfjs filter HWIO, rearranged on the host once at load. */
export function convFilterFromTorch({ shape, values }: HostTensor): tf.Tensor4D {
  const [o, i, h, w] = shape;
  const out = new Float32Array(values.length);
  for (let oc = 0; oc < o; oc++) {
    for (let ic = 0; ic < i; ic++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          out[((y * w + x) * i + ic) * o + oc] = values[((oc * i + ic) * h + y) * w + x];
        }
      }
    }
  }
  return tf.tensor4d(out, [h, w, i, o]);
}

/** PyTorch linear weight [out, in] -> [in, out]. */
export function linearWeightFromTorch({ shape, values }: HostTensor): tf.Tensor2D {
  const [o, i] = shape;
  const out = new Float32Array(values.length);
  for (let r = 0; r < o; r++) for (let c = 0; c < i; c++) out[c * o + r] = values[r * i + c];
  return tf.tensor2d(out, [i, o]);
}

export function silu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(x));
}

/** nn.GroupNorm(groups, C, eps): per sample and group, normalise over H, W and the group's channels. */
export function groupNorm(x: tf.Tensor4D, p: NormParams, groups: number, eps: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const grouped = tf.reshape(x, [b, h * w, groups, c / groups]);
  // Biased variance, as PyTorch's GroupNorm uses.
  const { mean, variance } = tf.moments(grouped, [1, 3], true);
  const normalised = tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(tf.reshape(normalised, [b, h, w, c]), p.gamma), p.beta);
}

/**
 * How a convolution runs. 'fused' (conv + bias in one kernel) for inference; 'differentiable'
 * (conv2d, then add) where tf.grad goes through it: the fused op's gradient computes the filter's
 * gradient too, and the wasm backend has no Conv2DBackpropFilter kernel.
 */
export type ConvMode = 'fused' | 'differentiable';

function conv2dWithBias(
  x: tf.Tensor4D,
  p: ConvParams,
  strides: 1 | 2,
  pad: 'same' | 'valid',
  mode: ConvMode,
): tf.Tensor4D {
  if (mode === 'fused') return tf.fused.conv2d({ x, filter: p.filter, bias: p.bias, strides, pad });
  return tf.add(tf.conv2d(x, p.filter, strides, pad), p.bias);
}

/** Conv2d with PyTorch padding=k//2, stride 1 ('same' pads symmetrically for odd k at stride 1). */
export function conv(x: tf.Tensor4D, p: ConvParams, mode: ConvMode = 'fused'): tf.Tensor4D {
  return conv2dWithBias(x, p, 1, 'same', mode);
}

/**
 * Conv2d(k=3, stride=2, padding=1). tfjs 'same' at stride 2 would pad only bottom/right (0 top/left,
 * 1 bottom/right for even sizes), shifting the sampling grid by a pixel, so pad 1 on every side
 * explicitly, as PyTorch does, and convolve 'valid'.
 */
export function downsampleConv(
  x: tf.Tensor4D,
  p: ConvParams,
  mode: ConvMode = 'fused',
): tf.Tensor4D {
  const padded = tf.pad(x, [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ]);
  return conv2dWithBias(padded, p, 2, 'valid', mode);
}

/**
 * F.interpolate(scale_factor=2, mode='nearest'): output pixel (y, x) copies input (y >> 1, x >> 1).
 * tfjs' resizeNearestNeighbor without alignCorners/halfPixelCenters picks floor(y * in / out),
 * which is the same pixel for an exact factor of 2.
 */
export function upsampleNearest2x(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  return tf.image.resizeNearestNeighbor(x, [2 * h, 2 * w], false, false);
}

/** x W + b, as one fused kernel (matMul with bias) rather than two. */
export function linear<T extends tf.Tensor2D | tf.Tensor3D>(x: T, p: LinearParams): T {
  if (x.rank === 2) return tf.fused.matMul({ a: x as tf.Tensor2D, b: p.weight, bias: p.bias }) as T;
  // [B, N, in] @ [in, out]: flatten the batch so one 2-D matMul does it.
  const [b, n, i] = x.shape as [number, number, number];
  const flat = tf.fused.matMul({ a: tf.reshape(x, [b * n, i]), b: p.weight, bias: p.bias });
  return tf.reshape(flat, [b, n, p.weight.shape[1]]) as T;
}

export interface AttentionParams {
  norm: NormParams;
  qkv: LinearParams;
  proj: LinearParams;
}

/**
 * The core of multi-head attention in tfjs ops: qkv [B, N, 3C] (q, k, v side by side, head h
 * taking channels [h d, (h + 1) d) of each, d = C / heads) -> softmax(q k^T / sqrt(d)) v per head,
 * the heads side by side [B, N, C].
 */
export function attentionCore(qkv: tf.Tensor3D, heads: number): tf.Tensor3D {
  const [b, n, c3] = qkv.shape;
  const c = c3 / 3;
  const d = c / heads;
  const splitHeads = (z: tf.Tensor3D): tf.Tensor3D =>
    tf.reshape(tf.transpose(tf.reshape(z, [b, n, heads, d]), [0, 2, 1, 3]), [b * heads, n, d]);
  const [q, k, v] = tf.split(qkv, 3, 2).map((z) => splitHeads(z as tf.Tensor3D));
  const scores = tf.div(tf.matMul(q, k, false, true), Math.sqrt(d)); // [B*heads, N, N]
  const mixed = tf.matMul(tf.softmax(scores), v); // [B*heads, N, d]
  return tf.reshape(tf.transpose(tf.reshape(mixed, [b, heads, n, d]), [0, 2, 1, 3]), [b, n, c]);
}

/**
 * Self-attention over the H*W positions with `heads` heads, residual (unet.py Attention). `norm`
 * is its GroupNorm and `core` the attention proper (the caller picks the implementations).
 */
export function attention(
  x: tf.Tensor4D,
  p: AttentionParams,
  heads: number,
  norm: (x: tf.Tensor4D, p: NormParams) => tf.Tensor4D,
  core: (qkv: tf.Tensor3D, heads: number) => tf.Tensor3D = attentionCore,
): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const tokens: tf.Tensor3D = tf.reshape(norm(x, p.norm), [b, h * w, c]);
  const merged = core(linear(tokens, p.qkv), heads); // qkv: [B, N, 3C], q, k, v in that order
  return tf.add(x, tf.reshape(linear(merged, p.proj), [b, h, w, c]));
}
