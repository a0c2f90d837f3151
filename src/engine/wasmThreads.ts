// How many WebAssembly threads the wasm backend runs, and how the page says so. Pure: no tfjs,
// so the worker, the bench page and the unit tests share it.
//
// Threads need SharedArrayBuffer, which browsers give only to cross-origin isolated pages (COOP
// same-origin + COEP require-corp, from the server or from public/coi-serviceworker.js): XNNPACK's
// pool shares the wasm heap, and the batch split hands work between workers through shared
// memory with a blocking wait. Without isolation the backend runs tfjs-backend-wasm's SIMD build
// on one thread.

export interface ThreadEnvironment {
  /** self.crossOriginIsolated of the engine's global (worker or page). */
  crossOriginIsolated: boolean;
  /** navigator.hardwareConcurrency (logical cores); 0 or missing: unknown. */
  hardwareConcurrency: number;
}

/**
 * How the cores are used.
 * - 'hybrid' (the default): the engine worker runs tfjs's threaded build with XNNPACK's pool of
 *   every thread, for the calls it computes whole (one image; models the helpers cannot load,
 *   such as the emoji pipeline); a call of two or more images is cut across one single-threaded
 *   helper worker per thread (src/worker/batchSplit.ts) while the engine waits.
 * - 'split': the engine worker computes one slice itself on one thread and the helpers the rest;
 *   a call of one image runs on one core.
 * - 'threads': one worker, XNNPACK's pool, no helpers.
 * Measured on the 2-core machine this was built on (README, "Threads and cross-origin
 * isolation"): XNNPACK's pool is the faster of the two at one image, the split at batches of two
 * and more; 'hybrid' takes each where it wins. ?wasmMode= picks the others for comparison.
 */
export type WasmMode = 'hybrid' | 'split' | 'threads';

export interface WasmThreadPlan {
  /** Threads in all (workers x threads per worker); 1 = one single-threaded worker. */
  threads: number;
  mode: WasmMode;
  /** Engine workers computing a batch (the engine's own included where it computes a slice). */
  workers: number;
  /** XNNPACK threads in the engine worker (the calling thread included); helpers have 1. */
  threadsPerWorker: number;
  isolated: boolean;
  /** Why this many, in words (shown with the backend). */
  why: string;
}

/**
 * The most threads we ask for. tfjs-backend-wasm's Emscripten build starts a pool of 8 workers
 * when it loads and caps XNNPACK at 8; in 'split' mode each thread is a worker holding its own
 * copy of the model and heap (tens of MB). The U-Nets here are 28x28 to 8x8 feature maps: past a
 * few threads each of the ~270 kernels of an evaluation is split into slivers and the hand-offs
 * cost more than they save (measured only up to 2 cores here).
 */
export const MAX_WASM_THREADS = 8;

/**
 * All the machine's cores when isolated (tfjs alone would take hardwareConcurrency / 2: 1 on a
 * 2-core machine, so it leaves half the CPU idle), capped at MAX_WASM_THREADS; 1 otherwise.
 * `requested` (the page's ?threads=N) overrides within the same limits; `mode` (?wasmMode=)
 * chooses how they are used.
 */
export function planWasmThreads(
  env: ThreadEnvironment,
  requested: number | null,
  mode: WasmMode = 'hybrid',
): WasmThreadPlan {
  const cores = Number.isFinite(env.hardwareConcurrency) ? Math.floor(env.hardwareConcurrency) : 0;
  const plan = (threads: number, isolated: boolean, why: string): WasmThreadPlan => ({
    threads,
    mode,
    workers: mode === 'threads' ? 1 : threads,
    threadsPerWorker: mode === 'split' ? 1 : threads,
    isolated,
    why,
  });
  if (!env.crossOriginIsolated) {
    return plan(
      1,
      false,
      'the page is not cross-origin isolated (no COOP/COEP headers), so no shared memory',
    );
  }
  const how = {
    hybrid: "XNNPACK's thread pool for one image, a batch split across workers of one thread each",
    split: 'the batch split across workers of one thread each',
    threads: "XNNPACK's thread pool",
  }[mode];
  if (requested !== null && Number.isInteger(requested) && requested >= 1) {
    const threads = Math.min(requested, MAX_WASM_THREADS);
    const capped = threads < requested ? ` (capped at ${MAX_WASM_THREADS})` : '';
    return plan(threads, true, `chosen by you (threads=${requested})${capped}; ${how}`);
  }
  if (cores < 1) return plan(1, true, 'the browser does not say how many cores it has');
  const threads = Math.max(1, Math.min(cores, MAX_WASM_THREADS));
  const capped = cores > MAX_WASM_THREADS ? `, capped at ${MAX_WASM_THREADS}` : '';
  return plan(
    threads,
    true,
    `one per core (${cores} core${cores === 1 ? '' : 's'}${capped}); ${how}`,
  );
}

/** The ?wasmMode= page parameter. */
export function parseWasmMode(value: string | null): WasmMode {
  return value === 'threads' || value === 'split' ? value : 'hybrid';
}

/** The ?threads=N page parameter: a positive integer, else null (automatic). */
export function parseThreadsParam(value: string | null): number | null {
  if (value === null || !/^\d+$/.test(value.trim())) return null;
  const n = Number(value);
  return n >= 1 ? n : null;
}

/**
 * The backend line's wasm part: "wasm, 2 threads (cross-origin isolated)", or
 * "wasm, 1 thread (not cross-origin isolated)".
 */
export function wasmThreadsLine(threads: number, isolated: boolean): string {
  const count = `${threads} thread${threads === 1 ? '' : 's'}`;
  return `wasm, ${count} (${isolated ? 'cross-origin isolated' : 'not cross-origin isolated'})`;
}
