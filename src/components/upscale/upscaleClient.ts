// The page's side of the super-resolution worker: started on first use (the panel's first Upscale
// or its model load), commands out, frames and states into the Upscale store.
import { useAppStore } from '../../store';
import type { RunSettings } from '../../engine/run/settings';
import type { FromUpscaleWorker, ToUpscaleWorker } from '../../worker/upscaleProtocol';
import { useUpscaleStore, type LowResSource, type UpscaleSettings } from './upscaleStore';

/** The SR pipeline folder under the app's models. */
export const SR_MODEL_PATH = 'models/emoji-sr/';

let worker: Worker | null = null;
let nextRunId = 1;

function send(message: ToUpscaleWorker, transfer: Transferable[] = []): void {
  worker?.postMessage(message, transfer);
}

function receive(message: FromUpscaleWorker): void {
  const store = useUpscaleStore.getState();
  switch (message.type) {
    case 'ready':
      // A run started before the model was ready keeps its status.
      store.set({
        status: store.status === 'loading' ? 'ready' : store.status,
        backend: message.backend,
        model: message.model,
      });
      if (store.settings.noiseLevel > message.model.maxNoiseLevel)
        store.setSettings({ noiseLevel: message.model.defaultNoiseLevel });
      return;
    case 'frame':
      store.receiveFrame(message);
      return;
    case 'runState':
      if (message.runId !== store.runId) return;
      store.set({
        status: message.state === 'idle' ? 'ready' : message.state,
        canStepBack: message.canStepBack,
      });
      return;
    case 'runPlanChanged':
      if (message.runId === store.runId) store.set({ plan: message.plan });
      return;
    case 'conditioning':
      if (message.runId === store.runId) {
        store.set({
          conditioning: {
            runId: message.runId,
            pixels: message.lowRes,
            shape: message.shape,
            noiseLevel: message.noiseLevel,
          },
        });
      }
      return;
    case 'modelProgress':
      return;
    case 'error':
      store.set({
        status: store.model ? 'ready' : 'error',
        error: `${message.context}: ${message.message}`,
      });
      return;
  }
}

/** Starts the worker and loads the SR model (once). */
export function ensureUpscaleWorker(): void {
  if (worker) return;
  const started = new Worker(new URL('../../worker/upscale.worker.ts', import.meta.url), {
    type: 'module',
  });
  worker = started;
  started.onmessage = (event: MessageEvent<FromUpscaleWorker>) => receive(event.data);
  started.onerror = (event) => {
    useUpscaleStore
      .getState()
      .set({ status: 'error', error: `the upscale worker failed: ${event.message}` });
  };
  useUpscaleStore.getState().set({ status: 'loading', error: null });
  const modelUrl = new URL(`${import.meta.env.BASE_URL}${SR_MODEL_PATH}`, window.location.href)
    .href;
  send({ type: 'init', backend: useAppStore.getState().backendChoice, modelUrl });
}

/** One upscale run of `source` with `settings` (image i gets seed + i). */
export function startUpscale(
  source: LowResSource,
  settings: UpscaleSettings,
  autoplay = true,
): void {
  ensureUpscaleWorker();
  const runId = nextRunId++;
  const seeds = Array.from({ length: source.batch }, (_, i) => (settings.seed + i) >>> 0);
  const run: RunSettings = {
    sampler: settings.sampler,
    steps: settings.steps,
    spacing: settings.spacing,
    sigmaSchedule: 'default',
    guidanceScale: 1,
    eta: 0,
    classes: seeds.map(() => 0),
    seeds,
    inpaint: null,
    img2img: null,
  };
  useUpscaleStore.getState().set({
    runId,
    runSource: source,
    frames: [],
    currentFrame: 0,
    plan: null,
    conditioning: null,
    canStepBack: false,
    status: 'running',
    error: null,
  });
  send({
    type: 'start',
    runId,
    lowRes: source.pixels.slice(),
    shape: source.shape,
    noiseLevel: settings.noiseLevel,
    settings: run,
    autoplay,
  });
}

export const upscaleCommands = {
  pause: () => send({ type: 'pause' }),
  resume: () => send({ type: 'resume' }),
  step: () => send({ type: 'step' }),
  stepBack: () => send({ type: 'stepBack' }),
  cancel: () => send({ type: 'cancel' }),
};
