// A helper of the engine worker (batchSplit.ts): tfjs on wasm, one thread, the same model, and
// one job: compute the slice of a model call the engine hands it through shared memory, write the
// outputs back, and wake the engine, which is waiting for them.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../engine/backend';
import type { DenoiseModel } from '../engine/denoiser';
import { fetchModel, runModelFromUNet, type UNet } from '../engine/model';
import {
  CTRL,
  splitCapacity,
  splitLayout,
  type FromSplitHelper,
  type ToSplitHelper,
} from './batchSplit';
import { TFJS_WASM_PATHS } from './wasmPaths';

setWasmPaths(TFJS_WASM_PATHS);
setThreadsCount(1);

const post = (m: FromSplitHelper) => self.postMessage(m);
const started = initBackend({ order: ['wasm'], reason: 'batch-split helper' });

let buffer: SharedArrayBuffer | null = null;
let model: { id: string; unet: UNet; denoiser: DenoiseModel } | null = null;
let loading: Promise<void> = Promise.resolve();

async function load(id: string, url: string): Promise<void> {
  await started;
  model?.unet.dispose();
  model = null;
  try {
    const { card, unet } = await fetchModel(url);
    const { denoiser } = runModelFromUNet(unet, card);
    // One throw-away call: XNNPACK packs the weights on first use.
    const [h, w, c] = denoiser.imageShape;
    tf.tidy(() => {
      denoiser.predict(tf.zeros([1, h, w, c]), [500], [denoiser.nullClass]).dataSync();
    });
    model = { id, unet, denoiser };
    post({ type: 'ready', id });
  } catch (err) {
    post({ type: 'failed', id, message: `helper: ${(err as Error).message ?? String(err)}` });
  }
}

function run(seq: number): void {
  if (!buffer) return;
  const ctrl = new Int32Array(buffer, 0, 8);
  try {
    if (!model) throw new Error('no model');
    const n = Atomics.load(ctrl, CTRL.batch);
    const shape: [number, number, number, number] = [
      n,
      Atomics.load(ctrl, CTRL.height),
      Atomics.load(ctrl, CTRL.width),
      Atomics.load(ctrl, CTRL.channels),
    ];
    const pixels = shape[1] * shape[2] * shape[3];
    const at = splitLayout(splitCapacity(buffer.byteLength, pixels), pixels);
    const timesteps = Array.from(new Float64Array(buffer, at.timesteps, n));
    const classes = Array.from(new Int32Array(buffer, at.classes, n));
    const x = new Float32Array(buffer, at.x, n * pixels).slice();
    const out = tf.tidy(() =>
      model!.denoiser.predict(tf.tensor4d(x, shape), timesteps, classes).dataSync(),
    );
    new Float32Array(buffer, at.out, n * pixels).set(out);
    Atomics.store(ctrl, CTRL.status, 0);
  } catch {
    Atomics.store(ctrl, CTRL.status, 1);
  }
  Atomics.store(ctrl, CTRL.done, seq);
  Atomics.notify(ctrl, CTRL.done);
}

self.onmessage = (event: MessageEvent<ToSplitHelper>) => {
  const m = event.data;
  if (m.type === 'buffer') buffer = m.buffer;
  else if (m.type === 'load') loading = loading.then(() => load(m.id, m.url));
  else if (m.type === 'run') void loading.then(() => run(m.seq));
};
