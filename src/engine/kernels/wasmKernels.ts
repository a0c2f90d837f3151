// The playground's own WebAssembly kernels for tfjs-backend-wasm (kernelsWasm.ts, built from the
// C files here by scripts/build-wasm-kernels.mjs). On wasm every tfjs kernel call costs a few
// microseconds of bookkeeping whatever its size, so where the U-Net needs a dozen small tfjs
// kernels in a row (GroupNorm + SiLU, the attention core) one fused kernel is faster
// (docs/PERFORMANCE.md). The module imports the backend's own linear memory, so tensors are passed
// as their heap offsets, with no copies. This file instantiates it per backend and registers the
// kernels; fusedGroupNorm.ts and fusedAttention.ts define them.
//
// With tfjs's threaded SIMD build the heap is a shared memory (a SharedArrayBuffer), which only a
// module that declares its memory import shared may take: that build of the same C code is
// KERNELS_WASM_SHARED_BASE64. The kernels then run on the calling thread, between XNNPACK's
// parallel kernels, never during one: tfjs runs one kernel at a time, and XNNPACK's pool waits
// for work while ours runs.
import * as tf from '@tensorflow/tfjs-core';
import { KERNELS_WASM_BASE64, KERNELS_WASM_SHARED_BASE64 } from './kernelsWasm';

/** The module's exports (see group_norm.c and attention.c); pointers are heap byte offsets. */
export interface KernelExports {
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
  attention(
    qkv: number,
    out: number,
    batch: number,
    positions: number,
    channels: number,
    heads: number,
    scratch: number,
  ): void;
}

/** The parts of tfjs-backend-wasm's BackendWasm the kernels use (not in its public types). */
export interface WasmBackendInternals {
  wasm: {
    /** The SIMD build exports its memory; the threaded build imports it (Module.wasmMemory). */
    asm?: { memory?: WebAssembly.Memory };
    wasmMemory?: WebAssembly.Memory;
    _malloc(bytes: number): number;
    _free(pointer: number): void;
  };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

export interface KernelInstance {
  exports: KernelExports;
  backend: WasmBackendInternals;
  /** A heap block for per-call temporaries (per-channel statistics, a row of scores). */
  scratch: number;
  scratchBytes: number;
}

export interface WasmKernelConfig {
  kernelName: string;
  kernelFunc: (args: Parameters<tf.KernelFunc>[0], k: KernelInstance) => tf.TensorInfo;
}

// Keyed by backend object: a backend that is removed and made again (resetBackend) has a new heap.
const instances = new WeakMap<object, KernelInstance>();
const compiled = new Map<'plain' | 'shared', Promise<WebAssembly.Module>>();
let lastProblem = '';

function moduleBytes(base64: string): Uint8Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** Registers a kernel of this module with tfjs (once; kernels run on whichever wasm backend). */
export function defineWasmKernel(config: WasmKernelConfig): void {
  tf.registerKernel({
    kernelName: config.kernelName,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const k = instances.get(args.backend);
      if (!k)
        throw new Error(`${config.kernelName}: prepareWasmKernels() did not run on this backend`);
      return config.kernelFunc(args, k);
    },
  });
}

/**
 * Instantiates the module on the active wasm backend (once per backend instance). False, with
 * the reason in wasmKernelsProblem(), when the backend is not wasm or the module cannot run
 * (e.g. no WebAssembly SIMD); callers then use plain tfjs ops, which give the same numbers.
 */
export async function prepareWasmKernels(): Promise<boolean> {
  if (tf.getBackend() !== 'wasm') return false;
  const backend = tf.backend() as unknown as WasmBackendInternals;
  if (instances.has(backend)) return true;
  try {
    const memory = wasmBackendMemory(backend);
    const variant = isSharedMemory(memory) ? 'shared' : 'plain';
    let module = compiled.get(variant);
    if (!module) {
      const base64 = variant === 'shared' ? KERNELS_WASM_SHARED_BASE64 : KERNELS_WASM_BASE64;
      module = WebAssembly.compile(moduleBytes(base64) as BufferSource);
      compiled.set(variant, module);
    }
    const instance = await WebAssembly.instantiate(await module, { env: { memory } });
    const exports = instance.exports as unknown as KernelExports;
    instances.set(backend, { exports, backend, scratch: 0, scratchBytes: 0 });
    lastProblem = '';
    return true;
  } catch (err) {
    compiled.clear();
    lastProblem = (err as Error).message ?? String(err);
    return false;
  }
}

/** The wasm backend's heap: exported by tfjs's SIMD build, imported (and kept) by its threaded one. */
export function wasmBackendMemory(backend: WasmBackendInternals): WebAssembly.Memory {
  const memory = backend.wasm.asm?.memory ?? backend.wasm.wasmMemory;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new Error(
      'tfjs-backend-wasm does not expose its memory (Module.asm.memory or Module.wasmMemory)',
    );
  }
  return memory;
}

/** A shared memory's buffer is a SharedArrayBuffer (which exists only where threads may run). */
export function isSharedMemory(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/** Whether the module's kernels can run on the active backend now. */
export function wasmKernelsReady(): boolean {
  return tf.getBackend() === 'wasm' && instances.has(tf.backend());
}

/** Why the last prepareWasmKernels failed ('' when it did not). */
export function wasmKernelsProblem(): string {
  return lastProblem;
}

/** A scratch block of at least `bytes` on the instance's heap, kept for later calls. */
export function scratch(k: KernelInstance, bytes: number): number {
  if (k.scratchBytes < bytes) {
    if (k.scratch) k.backend.wasm._free(k.scratch);
    k.scratch = k.backend.wasm._malloc(bytes);
    k.scratchBytes = bytes;
  }
  return k.scratch;
}

/** A tensor's heap offset. */
export function heapOffset(k: KernelInstance, t: tf.TensorInfo, kernelName: string): number {
  const entry = k.backend.dataIdMap.get(t.dataId);
  if (!entry) throw new Error(`${kernelName}: a tensor is not on the wasm backend`);
  return entry.memoryOffset;
}
