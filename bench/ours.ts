// Our side: tfjs on one backend, started by the app's own backend code (src/engine/backend.ts) and
// the U-Net loaded by the app's own loader (src/engine/model), exactly as the worker does.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tfjsWasm from '@tensorflow/tfjs-backend-wasm/dist/index.js';
import { initBackend, probeWebGpu, type AdapterReport, type GpuLike } from '../src/engine/backend';
import type { BackendName } from '../src/engine/backendNames';
import { wasmKernelsProblem, wasmKernelsReady } from '../src/engine/kernels';
import { fetchModel, type LoadedModel } from '../src/engine/model';
import { wasmBackendInfo, type WasmBackendInfo } from '../src/engine/wasmBackend';
import { TFJS_WASM_PATHS } from '../src/worker/wasmPaths';

export { ourEval } from './ourEval';

export interface OurBackend {
  name: BackendName;
  adapter: AdapterReport;
  /** XNNPACK threads (wasm only), the calling thread included: the page's ?threads=N. */
  wasmThreads: number | null;
  /** Which tfjs-backend-wasm binary runs (simd / threaded-simd), where knowable. */
  wasmFeatures: {
    simd: boolean;
    threads: boolean;
    build: WasmBackendInfo['build'] | null;
    /** Threads were asked for and could not run, and why. */
    threadsProblem: string | null;
    /** The playground's fused kernels (src/engine/kernels) run, or why not. */
    fusedKernels: boolean;
    fusedKernelsProblem: string;
  } | null;
}

/**
 * Starts exactly `name` (no fallback: a benchmark must not silently measure another backend),
 * on wasm with `threads` threads, through the app's own loader (src/engine/wasmBackend.ts).
 */
export async function startOurBackend(
  name: BackendName,
  threads = 1,
  loader: 'ours' | 'tfjs' = 'ours',
): Promise<OurBackend> {
  const adapter = await probeWebGpu((navigator as Navigator & { gpu?: GpuLike }).gpu);
  if (name === 'wasm' && loader === 'ours') {
    // Through src/worker/tfjsBackendWasm.ts: our loader, as the app's engine worker.
    setWasmPaths(TFJS_WASM_PATHS);
    setThreadsCount(threads);
  } else if (name === 'wasm') {
    // tfjs-backend-wasm's own loader (?loader=tfjs), to show what it does in this bundle.
    tfjsWasm.setWasmPaths(TFJS_WASM_PATHS);
    tfjsWasm.setThreadsCount(threads);
  }
  const active = await initBackend({ order: [name], reason: 'benchmark' });
  if (name !== 'wasm') return { name: active.name, adapter, wasmThreads: null, wasmFeatures: null };
  const info = wasmBackendInfo();
  return {
    name: active.name,
    adapter,
    wasmThreads: info?.threads ?? null,
    wasmFeatures: {
      simd: (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean,
      threads: (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) as boolean,
      build: info?.build ?? null,
      threadsProblem: info?.problem ?? null,
      fusedKernels: wasmKernelsReady(),
      fusedKernelsProblem: wasmKernelsProblem(),
    },
  };
}

export function loadOurModel(modelUrl: string): Promise<LoadedModel> {
  return fetchModel(modelUrl);
}
