// Our side: tfjs on one backend, started by the app's own backend code (src/engine/backend.ts) and
// the U-Net loaded by the app's own loader (src/engine/model), exactly as the worker does.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { initBackend, probeWebGpu, type AdapterReport, type GpuLike } from '../src/engine/backend';
import type { BackendName } from '../src/engine/backendNames';
import { wasmKernelsProblem, wasmKernelsReady } from '../src/engine/kernels';
import { fetchModel, type LoadedModel } from '../src/engine/model';

export { ourEval } from './ourEval';

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});

export interface OurBackend {
  name: BackendName;
  adapter: AdapterReport;
  /** XNNPACK threads (wasm only): 1, the page is not cross-origin isolated (as the app). */
  wasmThreads: number | null;
  /** Which tfjs-backend-wasm binary runs (simd / threaded-simd), where knowable. */
  wasmFeatures: {
    simd: boolean;
    threads: boolean;
    /** The playground's fused kernels (src/engine/kernels) run, or why not. */
    fusedKernels: boolean;
    fusedKernelsProblem: string;
  } | null;
}

/** Starts exactly `name` (no fallback: a benchmark must not silently measure another backend). */
export async function startOurBackend(name: BackendName): Promise<OurBackend> {
  const adapter = await probeWebGpu((navigator as Navigator & { gpu?: GpuLike }).gpu);
  // The same as the app: one thread (threads would need cross-origin isolation anyway).
  if (name === 'wasm') setThreadsCount(1);
  const active = await initBackend({ order: [name], reason: 'benchmark' });
  if (name !== 'wasm') return { name: active.name, adapter, wasmThreads: null, wasmFeatures: null };
  return {
    name: active.name,
    adapter,
    wasmThreads: getThreadsCount(),
    wasmFeatures: {
      simd: (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean,
      threads: (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) as boolean,
      fusedKernels: wasmKernelsReady(),
      fusedKernelsProblem: wasmKernelsProblem(),
    },
  };
}

export function loadOurModel(modelUrl: string): Promise<LoadedModel> {
  return fetchModel(modelUrl);
}
