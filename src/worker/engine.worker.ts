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
import { buildSchedulePlan } from '../engine/schedulePlan';
import type { FromWorker, ToWorker } from './protocol';

// In a worker the wasm files are not found relative to the page: point tfjs at Vite's URLs.
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});

const post = (message: FromWorker) => self.postMessage(message);

async function init(override: ToWorker & { type: 'init' }): Promise<void> {
  const gpu = (self.navigator as Navigator & { gpu?: GpuLike }).gpu;
  const adapter = await probeWebGpu(gpu);
  const active = await initBackend(planBackends(adapter, override.backend));
  const n = 100;
  const got = tf.tidy(
    () =>
      tf
        .range(1, n + 1)
        .sum()
        .dataSync()[0],
  );
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

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  const fail = (context: string) => (err: unknown) =>
    post({ type: 'error', context, message: (err as Error).message ?? String(err) });
  if (message.type === 'init') {
    init(message).catch(fail('starting the engine'));
  } else if (message.type === 'plan') {
    try {
      post({
        type: 'plan',
        requestId: message.requestId,
        plan: buildSchedulePlan(message.request),
      });
    } catch (err) {
      fail('planning the schedule')(err);
    }
  }
};
