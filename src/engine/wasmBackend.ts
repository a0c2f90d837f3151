// tfjs's wasm backend, started by us rather than by tfjs-backend-wasm's own loader, so that its
// threaded build works in a bundled app (browser only).
//
// tfjs-backend-wasm's loader picks the threaded SIMD build whenever the page is cross-origin
// isolated, and then gives the build's threads the *source text* of its bundled Emscripten
// factory (a Blob of Function.prototype.toString()). In a Vite bundle that text is minified and
// refers to names that exist only in the bundle, so every thread dies at start
// (`ReferenceError: e is not defined`). Here the same factories are called with the published
// glue file and thread script at URLs of our own origin (scripts/vite-wasm-threads.ts), so the
// threads load what Emscripten built, and no `blob:` worker is needed (CSP `worker-src 'self'`).
// One thread (or no isolation): the single-threaded SIMD build, as tfjs would run it.
//
// Browser code does not call this directly: `setWasmPaths` / `setThreadsCount` from
// '@tensorflow/tfjs-backend-wasm' reach it through src/worker/tfjsBackendWasm.ts.
import * as tf from '@tensorflow/tfjs-core';
// The package itself, by file: the bare name is redirected to src/worker/tfjsBackendWasm.ts.
import {
  BackendWasm,
  getThreadsCount,
  setThreadsCount,
} from '@tensorflow/tfjs-backend-wasm/dist/index.js';
import * as plainFactoryModule from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm.js';
import * as threadedFactoryModule from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';

/** Where the browser finds each file (Vite ?url imports and virtual:tfjs-wasm-threads). */
export interface WasmFiles {
  /** tfjs-backend-wasm.wasm (no SIMD; browsers from before 2021). */
  plain: string;
  'tfjs-backend-wasm-simd.wasm': string;
  'tfjs-backend-wasm-threaded-simd.wasm': string;
  /** The threaded build's Emscripten glue, unbundled: each thread loads it. */
  glue: string;
  /** The script each thread starts (tfjs's wasmWorkerContents, as a file). */
  pthreadWorker: string;
}

/** What the started backend runs: filled in when the backend is created. */
export interface WasmBackendInfo {
  build: 'threaded-simd' | 'simd' | 'plain';
  /** XNNPACK's threads, the calling thread included (tfjs's getThreadsCount). */
  threads: number;
  /** Threads were asked for but the build could not have them, and why. */
  problem: string | null;
}

type Factory = (config: Record<string, unknown>) => Promise<BackendModule>;
interface BackendModule {
  cwrap(name: string, returnType: string | null, argTypes: string[]): unknown;
  tfjs?: unknown;
}

// CommonJS modules: the factory is the default export or the module itself, as tfjs unwraps it.
const unwrap = (m: unknown): Factory =>
  ((m as { default?: Factory }).default ?? (m as Factory)) as Factory;
const plainFactory = unwrap(plainFactoryModule);
const threadedFactory = unwrap(threadedFactoryModule);

let info: WasmBackendInfo | null = null;

/** What the wasm backend started with (null before it started). */
export function wasmBackendInfo(): WasmBackendInfo | null {
  return info;
}

const REGISTERED_PRIORITY = 2; // as tfjs-backend-wasm registers itself

/**
 * Replaces tfjs-backend-wasm's factory for the 'wasm' backend by one that runs `threads()`
 * threads (read when the backend is created; 1: the SIMD build). Call before the backend is
 * first set.
 */
export function registerWasmBackend(files: WasmFiles, threads: () => number): void {
  // Not tf.findBackend: it would initialise the backend it looks for, with tfjs's own loader.
  if (tf.findBackendFactory('wasm')) tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    () => createBackend(files, Math.max(1, Math.floor(threads()) || 1)),
    REGISTERED_PRIORITY,
  );
}

async function createBackend(files: WasmFiles, threads: number): Promise<tf.KernelBackend> {
  const env = tf.env();
  const simd = (await env.getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  const shared = (await env.getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) as boolean;
  let problem: string | null = null;
  if (threads > 1 && !shared) {
    problem = 'no SharedArrayBuffer (the page is not cross-origin isolated)';
  } else if (threads > 1 && !simd) {
    problem = 'tfjs has a threaded build only with WebAssembly SIMD';
  }
  const threaded = threads > 1 && problem === null;
  const build: WasmBackendInfo['build'] = threaded ? 'threaded-simd' : simd ? 'simd' : 'plain';
  const wasmUrl =
    build === 'threaded-simd'
      ? files['tfjs-backend-wasm-threaded-simd.wasm']
      : build === 'simd'
        ? files['tfjs-backend-wasm-simd.wasm']
        : files.plain;
  const { module } = await instantiate(threaded ? threadedFactory : plainFactory, {
    locateFile: (path: string) => (path.endsWith('.worker.js') ? files.pthreadWorker : wasmUrl),
    // Emscripten's pool of thread workers, started before the backend runs: the threads XNNPACK
    // uses besides this one (scripts/vite-wasm-threads.ts makes the glue read it; a thread
    // beyond the pool would get a worker made on demand).
    ...(threaded ? { mainScriptUrlOrBlob: files.glue, pthreadPoolSize: threads - 1 } : {}),
    instantiateWasm: (imports: WasmImports, receive: ReceiveInstance) => {
      // tfjs sizes XNNPACK's pool as min(asked, 8, hardwareConcurrency / 2), the core count
      // coming from this import (read once, by the module's static constructor on this thread):
      // reporting twice the threads we want lifts the halving, so `threads` is what runs.
      if (threaded) imports.env.emscripten_num_logical_cores = () => 2 * threads;
      void compileAndInstantiate(wasmUrl, imports).then(
        ({ instance, module: compiled }) => receive(instance, compiled),
        (err: unknown) => fail(err),
      );
      return {}; // Emscripten: the exports arrive through `receive`
    },
  });
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  // BackendWasm's constructor starts XNNPACK's pool with the count set here.
  setThreadsCount(threaded ? threads : 1);
  const backend = new BackendWasm(
    module as unknown as ConstructorParameters<typeof BackendWasm>[0],
  );
  info = { build, threads: getThreadsCount(), problem };
  return backend;
}

interface WasmImports {
  env: Record<string, unknown>;
}
type ReceiveInstance = (instance: WebAssembly.Instance, module: WebAssembly.Module) => void;

/** Streaming compile where the server sends application/wasm, else from the bytes. */
async function compileAndInstantiate(
  url: string,
  imports: WasmImports,
): Promise<WebAssembly.WebAssemblyInstantiatedSource> {
  const imported = imports as unknown as WebAssembly.Imports;
  try {
    return await WebAssembly.instantiateStreaming(
      fetch(url, { credentials: 'same-origin' }),
      imported,
    );
  } catch {
    const response = await fetch(url, { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return WebAssembly.instantiate(await response.arrayBuffer(), imported);
  }
}

let fail: (what: unknown) => void = () => {};

/** Wrapped in an object, as tfjs does: resolving a promise with the module itself froze Chrome. */
function instantiate(
  factory: Factory,
  config: Record<string, unknown>,
): Promise<{ module: BackendModule }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    fail = (what: unknown) => {
      if (settled) return;
      settled = true;
      reject(new Error(`tfjs-backend-wasm did not start: ${String(what)}`));
    };
    factory({ ...config, onAbort: fail }).then((module) => {
      if (settled) return;
      settled = true;
      resolve({ module });
    }, fail);
  });
}
