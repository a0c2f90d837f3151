// The engine worker: owns tfjs and every tensor. The UI thread only sends commands and gets data.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { initBackend, planBackends, probeWebGpu, type GpuLike } from '../engine/backend';
import { ModelLoadError } from '../engine/model';
import { loadWorkerModel, type LoadedWorkerModel } from './modelLoader';
import type { FromWorker, ToWorker } from './protocol';
import { RunController } from './runController';

// In a worker the wasm files are not found relative to the page: point tfjs at Vite's URLs.
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});

const post = (message: FromWorker, transfer: Transferable[] = []) =>
  self.postMessage(message, { transfer });

// A MessageChannel task runs after messages already queued (setTimeout(0) is clamped to 4 ms
// after a few nested calls), so a running loop yields to Pause/Step/update between steps.
const channel = new MessageChannel();
const deferred: (() => void)[] = [];
channel.port1.onmessage = () => deferred.shift()?.();
const defer = (fn: () => void) => {
  deferred.push(fn);
  channel.port2.postMessage(null);
};

const runs = new RunController(post, defer);
let model: LoadedWorkerModel | null = null;
let engineReady: Promise<void> | null = null;

async function init(override: ToWorker & { type: 'init' }): Promise<void> {
  const gpu = (self.navigator as Navigator & { gpu?: GpuLike }).gpu;
  const adapter = await probeWebGpu(gpu);
  const active = await initBackend(planBackends(adapter, override.backend));
  const n = 100;
  // Read back asynchronously: WebGPU's synchronous read-back loses the device under SwiftShader.
  const sum = tf.tidy(() => tf.range(1, n + 1).sum());
  const got = (await sum.data())[0];
  sum.dispose();
  post({
    type: 'ready',
    backend: active.name,
    reason: active.reason,
    failures: active.failures,
    adapter,
    tfjsVersion: tf.version_core,
    selfCheck: { expected: (n * (n + 1)) / 2, got },
  });
}

/** The new model replaces the old one only once it has loaded and validated completely. */
async function loadModel(id: string, url: string): Promise<void> {
  await engineReady?.catch(() => undefined);
  let lastReport = 0;
  try {
    const loaded = await loadWorkerModel(id, url, (loadedBytes, totalBytes) => {
      const now = performance.now();
      if (now - lastReport < 50 && loadedBytes !== totalBytes) return;
      lastReport = now;
      post({ type: 'modelProgress', id, loadedBytes, totalBytes });
    });
    await runs.setModel(loaded.runModel);
    model?.unet.dispose();
    model = loaded;
    post({ type: 'modelLoaded', model: loaded.info });
  } catch (err) {
    const file = err instanceof ModelLoadError ? err.file : url;
    const problem = err instanceof ModelLoadError ? err.problem : (err as Error).message;
    post({ type: 'modelError', id, file, problem, kept: model?.info.id ?? null });
  }
}

function handle(message: ToWorker): Promise<void> | void {
  switch (message.type) {
    case 'init':
      engineReady = init(message);
      return engineReady;
    case 'loadModel':
      return loadModel(message.id, message.url);
    case 'runPlan':
      post({ type: 'runPlan', requestId: message.requestId, plan: runs.plan(message.settings) });
      return;
    case 'start':
      return runs.start(message.runId, message.settings, message.autoplay);
    case 'pause':
      return runs.pause();
    case 'resume':
      return runs.resume();
    case 'step':
      return runs.step();
    case 'stepBack':
      return runs.stepBack();
    case 'cancel':
      return runs.cancel();
    case 'update':
      return runs.update(message.patch);
  }
}

const CONTEXTS: Record<ToWorker['type'], string> = {
  init: 'starting the engine',
  loadModel: 'loading the model',
  runPlan: 'planning the run',
  start: 'starting the run',
  pause: 'pausing',
  resume: 'resuming',
  step: 'stepping',
  stepBack: 'stepping back',
  cancel: 'cancelling',
  update: 'updating the run',
};

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  const fail = (err: unknown) =>
    post({
      type: 'error',
      context: CONTEXTS[message.type],
      message: (err as Error).message ?? String(err),
    });
  try {
    handle(message)?.catch(fail);
  } catch (err) {
    fail(err);
  }
};
