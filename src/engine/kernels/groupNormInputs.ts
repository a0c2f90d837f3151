// The fused GroupNorm kernel's input checks, shared by its wasm, WebGPU and WebGL implementations.
import type * as tf from '@tensorflow/tfjs-core';
import type { FusedGroupNormAttrs } from './fusedGroupNorm';

export const FUSED_GROUP_NORM = 'PlaygroundFusedGroupNorm';

/** The kernel's inputs and attributes, checked. */
export interface GroupNormInputs extends FusedGroupNormAttrs {
  x: tf.TensorInfo;
  gamma: tf.TensorInfo;
  beta: tf.TensorInfo;
  add?: tf.TensorInfo;
}

/** x [B, H, W, C], gamma and beta [C], add [B, C] or none, all float32, C a multiple of groups. */
export function checkGroupNormInputs(inputs: object, attrs: unknown): GroupNormInputs {
  const { x, gamma, beta, add } = inputs as Record<string, tf.TensorInfo | undefined>;
  const { groups, eps, silu } = (attrs ?? {}) as FusedGroupNormAttrs;
  if (!x || !gamma || !beta || x.shape.length !== 4) {
    throw new Error(`${FUSED_GROUP_NORM}: needs x [B, H, W, C], gamma and beta`);
  }
  const [b, , , c] = x.shape;
  const float = [x, gamma, beta, add].every((t) => !t || t.dtype === 'float32');
  if (!float || c % groups !== 0 || gamma.shape[0] !== c || beta.shape[0] !== c) {
    throw new Error(`${FUSED_GROUP_NORM}: float32 x [B, H, W, ${c}] with ${groups} groups`);
  }
  if (add && (add.shape.length !== 2 || add.shape[0] !== b || add.shape[1] !== c)) {
    throw new Error(`${FUSED_GROUP_NORM}: add must be [${b}, ${c}], got [${add.shape}]`);
  }
  return { x, gamma, beta, add, groups, eps, silu };
}
