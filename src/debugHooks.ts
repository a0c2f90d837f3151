// Fault injection for end-to-end tests and diagnostics, present only when the page's URL has
// debug=1: `window.__playground.loseDevice()` destroys the WebGPU device under the engine,
// `crashWorker('throw' | 'close')` makes the engine worker throw an uncaught exception or end.
// Nothing in the normal UI reaches it.
import type { DebugAction } from './worker/protocol';

export interface PlaygroundDebugHooks {
  loseDevice(): void;
  crashWorker(how: 'throw' | 'close'): void;
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
export function installDebugHooks(search: string, send: (action: DebugAction) => void): void {
  if (!debugEnabled(search)) return;
  window.__playground = Object.freeze({
    loseDevice: () => send('loseDevice'),
    crashWorker: (how: 'throw' | 'close') => send(how === 'close' ? 'close' : 'throw'),
  });
}
