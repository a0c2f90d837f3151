// A bench-only engine worker: tfjs on wasm and the shipped U-Net, as the app's engine worker runs
// them, answering bare model calls, in any of the app's ways to use every core
// (src/engine/wasmThreads.ts): 'threads', tfjs's threaded build with XNNPACK's pool; 'split',
// one thread here plus helper workers that each compute a slice of the batch
// (src/worker/batchSplit.ts, the same code as the app); 'hybrid' (the app's default), the pool
// here for one image and a helper per thread for batches.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../src/engine/backend';
import type { DenoiseModel } from '../src/engine/denoiser';
import { fetchModel, runModelFromUNet } from '../src/engine/model';
import { wasmBackendInfo } from '../src/engine/wasmBackend';
import type { WasmMode } from '../src/engine/wasmThreads';
import { BatchSplitter } from '../src/worker/batchSplit';
import { TFJS_WASM_PATHS } from '../src/worker/wasmPaths';

export type ToEngineWorker =
  | { type: 'init'; modelUrl: string; threads: number; mode: WasmMode }
  | {
      type: 'eval';
      id: number;
      batch: number;
      x: Float32Array;
      timesteps: Float64Array;
      classes: Int32Array;
    };

export type FromEngineWorker =
  | { type: 'ready'; threads: number; build: string; isolated: boolean; workers: number }
  | { type: 'output'; id: number; output: Float32Array }
  | { type: 'failed'; id: number | null; message: string };

let denoiser: DenoiseModel | null = null;
let splitter: BatchSplitter | null = null;
const post = (m: FromEngineWorker, transfer: Transferable[] = []) =>
  self.postMessage(m, { transfer });

/** Until every helper computes (they load the model themselves), or 60 s. */
async function helpersReady(s: BatchSplitter, workers: number): Promise<void> {
  for (let i = 0; i < 600 && s.report().workers < workers; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const r = s.report();
  if (r.workers < workers) throw new Error(`split helpers not ready: ${r.problems.join('; ')}`);
}

self.onmessage = async (event: MessageEvent<ToEngineWorker>) => {
  const m = event.data;
  try {
    if (m.type === 'init') {
      setWasmPaths(TFJS_WASM_PATHS);
      setThreadsCount(m.mode === 'split' ? 1 : m.threads);
      await initBackend({ order: ['wasm'], reason: 'benchmark worker' });
      const { card, unet } = await fetchModel(m.modelUrl);
      denoiser = runModelFromUNet(unet, card).denoiser;
      if (m.mode !== 'threads' && m.threads > 1) {
        splitter = BatchSplitter.forMode(
          m.mode,
          m.threads,
          () =>
            new Worker(new URL('../src/worker/splitHelper.worker.ts', import.meta.url), {
              type: 'module',
            }),
        );
        splitter.loadModel('bench', m.modelUrl);
        denoiser = splitter.wrap(denoiser, 'bench');
        await helpersReady(splitter, m.threads);
      }
      const info = wasmBackendInfo();
      post({
        type: 'ready',
        threads: info?.threads ?? 1,
        build: info?.build ?? 'unknown',
        isolated: self.crossOriginIsolated,
        workers: splitter?.report().workers ?? 1,
      });
      return;
    }
    if (!denoiser) throw new Error('no model');
    const [h, w, c] = denoiser.imageShape;
    const x = tf.tensor4d(m.x, [m.batch, h, w, c]);
    const out = denoiser.predict(x, Array.from(m.timesteps), Array.from(m.classes));
    const output = (await out.data()) as Float32Array;
    tf.dispose([x, out]);
    post({ type: 'output', id: m.id, output }, [output.buffer]);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    post({ type: 'failed', id: m.type === 'eval' ? m.id : null, message });
  }
};
