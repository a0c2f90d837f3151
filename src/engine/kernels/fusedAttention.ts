// softmax(q k^T / sqrt(d)) v for every head as one wasm kernel (attention.c), from the output of
// the attention's qkv projection. In tfjs ops that is a split, four transposes, two batched
// matMuls (a plain loop in tfjs-backend-wasm, about 2.5 GFLOP/s here), a division and a softmax.
import * as tf from '@tensorflow/tfjs-core';
import { defineWasmKernel, heapOffset, scratch } from './wasmKernels';

export const FUSED_ATTENTION = 'PlaygroundFusedAttention';

/**
 * qkv [B, N, 3C] (q, k, v side by side, head h taking channels [h d, (h + 1) d) of each, d = C /
 * heads) -> the heads' outputs [B, N, C], side by side. Only where wasmKernelsReady().
 */
export function fusedAttention(qkv: tf.Tensor3D, heads: number): tf.Tensor3D {
  return tf.engine().runKernel(FUSED_ATTENTION, { qkv }, { heads }) as tf.Tensor3D;
}

defineWasmKernel({
  kernelName: FUSED_ATTENTION,
  kernelFunc: ({ inputs, attrs }, k) => {
    const { qkv } = inputs as Record<string, tf.TensorInfo | undefined>;
    const { heads } = attrs as unknown as { heads: number };
    if (!qkv || qkv.shape.length !== 3 || qkv.dtype !== 'float32') {
      throw new Error(`${FUSED_ATTENTION}: needs float32 qkv [B, N, 3C]`);
    }
    const [b, n, c3] = qkv.shape;
    const c = c3 / 3;
    if (!Number.isInteger(c) || !Number.isInteger(heads) || heads < 1 || c % heads !== 0) {
      throw new Error(`${FUSED_ATTENTION}: qkv [B, N, ${c3}] does not split into ${heads} heads`);
    }
    const out = k.backend.makeOutput([b, n, c], 'float32');
    const at = (t: tf.TensorInfo) => heapOffset(k, t, FUSED_ATTENTION);
    k.exports.attention(at(qkv), at(out), b, n, c, heads, scratch(k, n * 4)); // one row of scores
    return out;
  },
});
