// Reading a step's tensors back to the host. On a GPU backend every read-back waits for the GPU
// queue (on WebGL it also stalls the pipeline), and a step reads four tensors (the shown sample,
// x_0, the noise, the sample kept for recovery): there they go as one transfer. On wasm and cpu
// the tensors already live in host memory and a read is a copy, so they are read one by one.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

function onHostMemory(): boolean {
  const backend = tf.getBackend();
  return backend === 'wasm' || backend === 'cpu';
}

function packed(tensors: Tensor[]): Tensor {
  return tf.tidy(() => tf.concat(tensors.map((t) => tf.reshape(t, [-1]))));
}

function unpack(all: Float32Array, tensors: Tensor[]): Float32Array[] {
  let at = 0;
  return tensors.map((t) => all.slice(at, (at += t.size)));
}

/** The tensors' values, in order (synchronous: CPU, WASM, WebGL). */
export function readBackSync(tensors: Tensor[]): Float32Array[] {
  if (onHostMemory()) return tensors.map((t) => t.dataSync() as Float32Array);
  return readBackPackedSync(tensors);
}

/** One transfer for all: what readBackSync does on a GPU backend (exported for its test). */
export function readBackPackedSync(tensors: Tensor[]): Float32Array[] {
  const all = packed(tensors);
  try {
    return unpack(all.dataSync() as Float32Array, tensors);
  } finally {
    all.dispose();
  }
}

/** The same, asynchronously (WebGPU's synchronous read-back is not usable everywhere). */
export async function readBack(tensors: Tensor[]): Promise<Float32Array[]> {
  if (onHostMemory()) return Promise.all(tensors.map((t) => t.data() as Promise<Float32Array>));
  const all = packed(tensors);
  try {
    return unpack((await all.data()) as Float32Array, tensors);
  } finally {
    all.dispose();
  }
}
