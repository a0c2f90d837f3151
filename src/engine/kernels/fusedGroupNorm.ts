// A fused GroupNorm kernel for tfjs-backend-wasm: act(GroupNorm(x + add)) in one call, where the
// tfjs ops take about 13 kernels (statistics, affine, SiLU). On wasm every kernel call costs a few
// microseconds of bookkeeping whatever its size, and at batch 1 the U-Net's 25 norms were a third
// of its non-convolution time (docs/PERFORMANCE.md). The arithmetic is group_norm.c, compiled to
// WebAssembly SIMD (scripts/build-wasm-kernels.mjs) and run on tfjs's own heap: the module imports
// the backend's linear memory, so tensors are passed as their offsets, with no copies.
import * as tf from '@tensorflow/tfjs-core';
import { GROUP_NORM_WASM_BASE64 } from './groupNormWasm';

export const FUSED_GROUP_NORM = 'PlaygroundFusedGroupNorm';

export interface FusedGroupNormAttrs {
  groups: number;
  eps: number;
  /** Apply SiLU to the normalised output. */
  silu: boolean;
}

interface GroupNormExports {
  group_norm(
    x: number,
    add: number,
    gamma: number,
    beta: number,
    out: number,
    batch: number,
    positions: number,
    channels: number,
    groups: number,
    eps: number,
    silu: number,
    scratch: number,
  ): void;
}

/** The parts of tfjs-backend-wasm's BackendWasm this kernel uses (not in its public types). */
interface WasmBackendInternals {
  wasm: {
    asm?: { memory?: WebAssembly.Memory };
    _malloc(bytes: number): number;
    _free(pointer: number): void;
  };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

interface KernelInstance {
  exports: GroupNormExports;
  /** Per-channel mean, variance/shift and scale: 3 floats a channel, grown on demand. */
  scratch: number;
  scratchChannels: number;
}

// Keyed by backend object: a backend that is removed and made again (resetBackend) has a new heap.
const instances = new WeakMap<object, KernelInstance>();
let compiled: Promise<WebAssembly.Module> | null = null;
let registered = false;
let lastProblem = '';

function moduleBytes(): Uint8Array {
  const text = atob(GROUP_NORM_WASM_BASE64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/**
 * Instantiates the kernel on the active wasm backend (once per backend instance). False, with
 * the reason in fusedGroupNormProblem(), when the backend is not wasm or the module cannot run
 * (e.g. no WebAssembly SIMD); callers then use the plain tfjs ops, which give the same numbers.
 */
export async function prepareFusedGroupNorm(): Promise<boolean> {
  if (tf.getBackend() !== 'wasm') return false;
  const backend = tf.backend() as unknown as WasmBackendInternals;
  if (instances.has(backend)) return true;
  try {
    const memory = backend.wasm.asm?.memory;
    if (!(memory instanceof WebAssembly.Memory)) {
      throw new Error('tfjs-backend-wasm does not expose its memory (Module.asm.memory)');
    }
    compiled ??= WebAssembly.compile(moduleBytes() as BufferSource);
    const instance = await WebAssembly.instantiate(await compiled, { env: { memory } });
    instances.set(backend, {
      exports: instance.exports as unknown as GroupNormExports,
      scratch: 0,
      scratchChannels: 0,
    });
    if (!registered) {
      tf.registerKernel({ kernelName: FUSED_GROUP_NORM, backendName: 'wasm', kernelFunc });
      registered = true;
    }
    lastProblem = '';
    return true;
  } catch (err) {
    compiled = null;
    lastProblem = (err as Error).message ?? String(err);
    return false;
  }
}

/** Whether fusedGroupNorm can run on the active backend now. */
export function fusedGroupNormReady(): boolean {
  return tf.getBackend() === 'wasm' && instances.has(tf.backend());
}

/** Why the last prepareFusedGroupNorm failed ('' when it did not). */
export function fusedGroupNormProblem(): string {
  return lastProblem;
}

/**
 * act(GroupNorm(x + add)) for x [B, H, W, C] float32, add [B, C] (one value per image and
 * channel, e.g. a time embedding) or none, gamma and beta [C]. Only where fusedGroupNormReady().
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

function kernelFunc({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const wasm = backend as unknown as WasmBackendInternals;
  const k = instances.get(wasm);
  if (!k)
    throw new Error(`${FUSED_GROUP_NORM}: prepareFusedGroupNorm() did not run on this backend`);
  const { x, gamma, beta, add } = inputs as Record<string, tf.TensorInfo | undefined>;
  const { groups, eps, silu } = attrs as unknown as FusedGroupNormAttrs;
  if (!x || !gamma || !beta || x.shape.length !== 4) {
    throw new Error(`${FUSED_GROUP_NORM}: needs x [B, H, W, C], gamma and beta`);
  }
  const [b, h, w, c] = x.shape;
  const float = [x, gamma, beta, add].every((t) => !t || t.dtype === 'float32');
  if (!float || c % groups !== 0 || gamma.shape[0] !== c || beta.shape[0] !== c) {
    throw new Error(`${FUSED_GROUP_NORM}: float32 x [B, H, W, ${c}] with ${groups} groups`);
  }
  if (add && (add.shape.length !== 2 || add.shape[0] !== b || add.shape[1] !== c)) {
    throw new Error(`${FUSED_GROUP_NORM}: add must be [${b}, ${c}], got [${add.shape}]`);
  }
  if (k.scratchChannels < c) {
    if (k.scratch) wasm.wasm._free(k.scratch);
    k.scratch = wasm.wasm._malloc(3 * c * 4);
    k.scratchChannels = c;
  }
  const out = wasm.makeOutput(x.shape, 'float32');
  const offset = (t: tf.TensorInfo): number => {
    const entry = wasm.dataIdMap.get(t.dataId);
    if (!entry) throw new Error(`${FUSED_GROUP_NORM}: a tensor is not on the wasm backend`);
    return entry.memoryOffset;
  };
  k.exports.group_norm(
    offset(x),
    add ? offset(add) : 0,
    offset(gamma),
    offset(beta),
    offset(out),
    b,
    h * w,
    c,
    groups,
    eps,
    silu ? 1 : 0,
    k.scratch,
  );
  return out;
}
