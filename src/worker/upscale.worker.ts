// The super-resolution worker: its own tfjs and its own RunController, so the SR stage runs as a
// reverse process of its own (frames, Step, Step back, every sampler) beside the main engine,
// which keeps its model. Each Upscale conditions the SR U-Net on the given low-res images.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { initBackend, planBackends, probeWebGpu, type GpuLike } from '../engine/backend';
import { ModelLoadError } from '../engine/model/errors';
import { fetchSR, type LoadedSR } from '../engine/sr/loadSR';
import { SRConditionedModel } from '../engine/sr/srDenoiser';
import { createDefer } from './defer';
import { RunController } from './runController';
import type { FromWorker } from './protocol';
import type { FromUpscaleWorker, ToUpscaleWorker, UpscaleModelInfo } from './upscaleProtocol';

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});

/** Only real buffers are transferred (a pixel model's frame has no latent view: undefined). */
const post = (message: FromUpscaleWorker, transfer: (Transferable | null | undefined)[] = []) =>
  self.postMessage(message, {
    transfer: transfer.filter((b): b is Transferable => b instanceof ArrayBuffer),
  });

// The run controller speaks the main worker's messages; pass on the ones the page draws.
const runs = new RunController(
  (message: FromWorker, transfer?: (Transferable | null | undefined)[]) => {
    if (
      message.type === 'frame' ||
      message.type === 'runState' ||
      message.type === 'runPlanChanged'
    ) {
      post(message, transfer);
    } else if (message.type === 'error') {
      post(message);
    }
  },
  createDefer(),
);
let sr: LoadedSR | null = null;
let conditioned: SRConditionedModel | null = null;
let ready: Promise<void> | null = null;

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function modelInfo(loaded: LoadedSR): UpscaleModelInfo {
  const { card } = loaded;
  const q = card.quality;
  return {
    id: card.id,
    name: card.name,
    lowResShape: card.lowResShape,
    imageShape: card.imageShape,
    maxNoiseLevel: card.maxNoiseLevel,
    defaultNoiseLevel: card.defaultNoiseLevel,
    parameterCount: card.unet.parameterCount,
    trainingSteps: num(card.training.steps),
    quality: {
      psnr: num(q.psnr_held_out_db),
      bicubicPsnr: num(q.bicubic_psnr_held_out_db),
      consistency: num(q.consistency_held_out_db),
    },
  };
}

async function init(message: ToUpscaleWorker & { type: 'init' }): Promise<void> {
  const gpu = (self.navigator as Navigator & { gpu?: GpuLike }).gpu;
  const active = await initBackend(planBackends(await probeWebGpu(gpu), message.backend));
  sr = await fetchSR(message.modelUrl);
  post({ type: 'ready', backend: active.name, model: modelInfo(sr) });
}

async function start(message: ToUpscaleWorker & { type: 'start' }): Promise<void> {
  await ready;
  if (!sr) throw new Error('the super-resolution model is not loaded');
  const next = new SRConditionedModel(sr.unet, sr.card, {
    lowRes: message.lowRes,
    noiseLevel: message.noiseLevel,
    seeds: message.settings.seeds,
    shape: message.shape,
  });
  await runs.setModel(next.runModel); // ends the previous run before its conditioning goes
  conditioned?.dispose();
  conditioned = next;
  const lowRes = next.augmentedLowRes().slice();
  post(
    {
      type: 'conditioning',
      runId: message.runId,
      lowRes,
      shape: message.shape,
      noiseLevel: message.noiseLevel,
    },
    [lowRes.buffer],
  );
  const settings = {
    ...message.settings,
    guidanceScale: 1,
    classes: message.settings.seeds.map(() => 0),
  };
  await runs.start(message.runId, settings, message.autoplay);
}

function handle(message: ToUpscaleWorker): Promise<void> | void {
  switch (message.type) {
    case 'init':
      ready = init(message);
      return ready;
    case 'start':
      return start(message);
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
  }
}

self.onmessage = (event: MessageEvent<ToUpscaleWorker>) => {
  const message = event.data;
  Promise.resolve()
    .then(() => handle(message))
    .catch((err: unknown) => {
      const text =
        err instanceof ModelLoadError
          ? `${err.file}: ${err.problem}`
          : ((err as Error).message ?? String(err));
      post({
        type: 'error',
        context:
          message.type === 'init'
            ? 'loading the super-resolution model'
            : `upscale ${message.type}`,
        message: text,
      });
    });
};
