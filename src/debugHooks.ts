// Fault injection and diagnostics for end-to-end tests, present only when the page's URL has
// debug=1: `window.__playground.loseDevice()` destroys the WebGPU device under the engine,
// `crashWorker('throw' | 'close')` makes the engine worker throw an uncaught exception or end,
// `evaluate(x, timesteps, classes)` runs the loaded model once in the worker (parity checks on
// every backend). Nothing in the normal UI reaches it.
import type { DebugAction } from './worker/protocol';
import type { GpuPathReport } from './worker/gpuPath';
import type { SplitReport } from './worker/batchSplit';

export interface Evaluation {
  /** The tfjs backend that computed it. */
  backend: string;
  /** The model output, flat NHWC. */
  output: number[];
  /** The kernels the call ran, by name (sorted, once each). */
  kernels: string[];
  /** On WebGPU: limits, batch limit, precision plan and dispatch traces (worker/gpuPath.ts). */
  gpu?: GpuPathReport | null;
  /** On wasm with the batch split: helper workers ready and the last call's slices. */
  split?: SplitReport | null;
}

/** One bare model call on the loaded model: x flat NHWC, one image per class id. */
export type Evaluate = (x: number[], timesteps: number[], classes: number[]) => Promise<Evaluation>;

export interface PlaygroundDebugHooks {
  loseDevice(): void;
  crashWorker(how: 'throw' | 'close'): void;
  evaluate: Evaluate;
}

declare global {
  interface Window {
    __playground?: PlaygroundDebugHooks;
  }
}

export function debugEnabled(search: string): boolean {
  return new URLSearchParams(search).get('debug') === '1';
}

/** Installs the hooks when `search` has debug=1; `send` posts the action to the worker. */
export function installDebugHooks(
  search: string,
  send: (action: DebugAction) => void,
  evaluate: Evaluate,
): void {
  if (!debugEnabled(search)) return;
  window.__playground = Object.freeze({
    loseDevice: () => send('loseDevice'),
    crashWorker: (how: 'throw' | 'close') => send(how === 'close' ? 'close' : 'throw'),
    evaluate,
  });
}
