// act(GroupNorm(x + add)) as one wasm kernel (group_norm.c) where tfjs ops take about 13: the
// statistics, the affine and the SiLU. At batch 1 the U-Net's 27 norms were most of its
// non-convolution time on wasm (docs/PERFORMANCE.md).
import * as tf from '@tensorflow/tfjs-core';
import { checkGroupNormInputs, FUSED_GROUP_NORM } from './groupNormInputs';
import { defineWasmKernel, heapOffset, scratch, wasmKernelsReady } from './wasmKernels';

export { FUSED_GROUP_NORM };

export interface FusedGroupNormAttrs {
  groups: number;
  eps: number;
  /** Apply SiLU to the normalised output. */
  silu: boolean;
}

/**
 * Whether fusedGroupNorm runs on the active backend: on wasm once its module is instantiated
 * (prepareWasmKernels); on WebGPU and WebGL always (webgpuGroupNorm.ts, webglGroupNorm.ts:
 * shaders tfjs compiles itself). The cpu backend keeps the tfjs ops.
 */
export function fusedGroupNormAvailable(): boolean {
  const backend = tf.getBackend();
  return wasmKernelsReady() || backend === 'webgpu' || backend === 'webgl';
}

/**
 * act(GroupNorm(x + add)) for x [B, H, W, C] float32, add [B, C] (one value per image and
 * channel, e.g. a time embedding) or none, gamma and beta [C]. Only where
 * fusedGroupNormAvailable().
 */
export function fusedGroupNorm(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  attrs: FusedGroupNormAttrs,
  add?: tf.Tensor2D,
): tf.Tensor4D {
  const inputs: tf.NamedTensorMap = add ? { x, gamma, beta, add } : { x, gamma, beta };
  const kernelAttrs = { groups: attrs.groups, eps: attrs.eps, silu: attrs.silu };
  return tf.engine().runKernel(FUSED_GROUP_NORM, inputs, kernelAttrs) as tf.Tensor4D;
}

defineWasmKernel({
  kernelName: FUSED_GROUP_NORM,
  kernelFunc: ({ inputs, attrs }, k) => {
    const { x, gamma, beta, add, groups, eps, silu } = checkGroupNormInputs(inputs, attrs);
    const [b, h, w, c] = x.shape;
    const out = k.backend.makeOutput(x.shape, 'float32');
    const at = (t: tf.TensorInfo) => heapOffset(k, t, FUSED_GROUP_NORM);
    k.exports.group_norm(
      at(x),
      add ? at(add) : 0,
      at(gamma),
      at(beta),
      at(out),
      b,
      h * w,
      c,
      groups,
      eps,
      silu ? 1 : 0,
      scratch(k, 3 * c * 4), // per-channel mean, variance, scale
    );
    return out;
  },
});
