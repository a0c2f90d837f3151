// What browser code of this app gets from `import ... from '@tensorflow/tfjs-backend-wasm'`
// (scripts/vite-wasm-threads.ts points the bare name here; Node keeps the real package).
//
// Everything is tfjs-backend-wasm's own, except that `setWasmPaths` also installs our loader for
// the 'wasm' backend (src/engine/wasmBackend.ts), and `setThreadsCount` sets the thread count
// for it. Why: on a cross-origin isolated page tfjs's own loader starts its threaded build, whose
// threads cannot start from a bundle (`ReferenceError: e is not defined`); ours can. So every
// worker that sets its wasm paths (engine, toy training, upscaling) keeps working when the app
// is isolated, with one thread (the SIMD build, as before) unless it asks for more.
import { setWasmPaths as tfjsSetWasmPaths } from '@tensorflow/tfjs-backend-wasm/dist/index.js';
import { glueUrl, pthreadWorkerUrl } from 'virtual:tfjs-wasm-threads';
import { registerWasmBackend, type WasmFiles } from '../engine/wasmBackend';

export * from '@tensorflow/tfjs-backend-wasm/dist/index.js';

/** Threads for the next wasm backend: 1 unless asked (tfjs's own default would be cores / 2). */
let threads = 1;

type BinaryName =
  'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm';

/** Absolute: the thread workers resolve relative URLs against their own script's URL. */
const absolute = (url: string) => new URL(url, self.location.href).href;

/**
 * As tfjs's setWasmPaths (a folder prefix, or a URL per binary), and our loader for the 'wasm'
 * backend with those binaries. Call before the wasm backend is first set.
 */
export function setWasmPaths(
  prefixOrFileMap: string | { [key in BinaryName]?: string },
  usePlatformFetch = false,
): void {
  tfjsSetWasmPaths(prefixOrFileMap, usePlatformFetch);
  const url = (name: BinaryName) =>
    absolute(typeof prefixOrFileMap === 'string' ? prefixOrFileMap + name : prefixOrFileMap[name]!);
  const files: WasmFiles = {
    plain: url('tfjs-backend-wasm.wasm'),
    'tfjs-backend-wasm-simd.wasm': url('tfjs-backend-wasm-simd.wasm'),
    'tfjs-backend-wasm-threaded-simd.wasm': url('tfjs-backend-wasm-threaded-simd.wasm'),
    glue: absolute(glueUrl),
    pthreadWorker: absolute(pthreadWorkerUrl),
  };
  registerWasmBackend(files, () => threads);
}

/**
 * Threads for the wasm backend created next (tfjs: "before tf.setBackend('wasm')"): more than
 * one only where the page is cross-origin isolated; see src/engine/wasmThreads.ts for the plan.
 */
export function setThreadsCount(numThreads: number): void {
  threads = numThreads;
}
