// Measures what float16 storage would cost a model, on the CPU: runs a computation with every
// float32 tensor a kernel writes rounded to f16 in place (the cpu and wasm backends keep tensors
// in host memory), which is f16 storage of weights and activations with f32 arithmetic inside each
// kernel, the usual shader-f16 recipe. precision.ts compares the result with plain float32.
import * as tf from '@tensorflow/tfjs-core';
import { roundArrayToFloat16 } from './float16';

interface CpuBackendLike {
  data: { get(id: object): { values?: unknown } | undefined };
}
interface WasmBackendLike {
  dataIdMap: { get(id: object): { memoryOffset: number } | undefined };
  wasm: { asm?: { memory?: WebAssembly.Memory }; wasmMemory?: WebAssembly.Memory };
}

/** The tensor's float32 values as a view on the backend's own storage (null: not reachable). */
function storage(t: tf.Tensor): Float32Array | null {
  if (t.dtype !== 'float32') return null;
  const backend = tf.backend() as unknown;
  const name = tf.getBackend();
  if (name === 'cpu') {
    const values = (backend as CpuBackendLike).data.get(t.dataId)?.values;
    return values instanceof Float32Array ? values : null;
  }
  if (name === 'wasm') {
    const b = backend as WasmBackendLike;
    const entry = b.dataIdMap.get(t.dataId);
    const memory = b.wasm.asm?.memory ?? b.wasm.wasmMemory;
    if (!entry || !memory) return null;
    return new Float32Array(memory.buffer, entry.memoryOffset, t.size);
  }
  return null;
}

/** Rounds a tensor's values to f16 where it lives. */
export function roundTensorToFloat16(t: tf.Tensor): void {
  const values = storage(t);
  if (!values) throw new Error(`cannot round a ${t.dtype} tensor on ${tf.getBackend()} in place`);
  roundArrayToFloat16(values);
}

/**
 * Runs `fn` (synchronous tfjs work) with every float32 kernel output rounded to f16 as it is made.
 * cpu and wasm backends only. Tensors made before (weights, inputs) are not touched: round them
 * with roundTensorToFloat16 first to simulate f16 weights and inputs.
 */
export function withFloat16Storage<T>(fn: () => T): T {
  const name = tf.getBackend();
  if (name !== 'cpu' && name !== 'wasm') {
    throw new Error(`float16 simulation needs the cpu or wasm backend, not ${name}`);
  }
  const engine = tf.engine() as unknown as {
    runKernel: (...args: unknown[]) => tf.Tensor | tf.Tensor[];
  };
  const original = engine.runKernel;
  engine.runKernel = function (this: unknown, ...args: unknown[]) {
    const out = original.apply(this, args);
    for (const t of Array.isArray(out) ? out : [out]) {
      const values = storage(t);
      if (values) roundArrayToFloat16(values);
    }
    return out;
  };
  try {
    return fn();
  } finally {
    engine.runKernel = original;
  }
}
