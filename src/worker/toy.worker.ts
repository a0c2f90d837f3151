// The toy training worker: a dedicated worker with its own tfjs backend, separate from the
// image engine's worker, so a training run (which keeps its worker busy in back-to-back slices)
// never queues behind image steps and never delays them: each worker gets its own thread (and
// core, where there are two), and a crash or divergence here leaves image generation alone.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { initBackend, planBackends, probeWebGpu, type GpuLike } from '../engine/backend';
import { createDefer } from './defer';
import type { FromToyWorker, ToToyWorker } from './toyProtocol';
import { ToySession } from './toySession';

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});

const post = (message: FromToyWorker, transfer: Transferable[] = []) =>
  self.postMessage(message, { transfer });
const session = new ToySession(post, createDefer());
let ready: Promise<void> | null = null;

async function init(backend: ToToyWorker & { type: 'init' }): Promise<void> {
  const gpu = (self.navigator as Navigator & { gpu?: GpuLike }).gpu;
  const active = await initBackend(planBackends(await probeWebGpu(gpu), backend.backend));
  post({ type: 'ready', backend: active.name, reason: active.reason });
}

function handle(message: ToToyWorker): void {
  switch (message.type) {
    case 'init':
      ready = init(message);
      return;
    case 'train':
      session.train(message.points, message.model, message.train, message.maxSteps);
      return;
    case 'pause':
      session.pause();
      return;
    case 'resume':
      session.resume(message.maxSteps);
      return;
    case 'reset':
      session.reset();
      return;
    case 'sample':
      session.sample(message);
      return;
    case 'export':
      session.exportModel();
      return;
    case 'load':
      session.load(message.json);
      return;
  }
}

self.onmessage = (event: MessageEvent<ToToyWorker>) => {
  const message = event.data;
  const run = async () => {
    if (message.type !== 'init') await ready;
    handle(message);
  };
  run().catch((err: unknown) =>
    post({ type: 'error', message: (err as Error).message ?? String(err) }),
  );
};
