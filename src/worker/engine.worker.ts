// The engine worker: owns tfjs and every tensor. The UI thread only sends commands and gets data.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
// Our loader behind tfjs's API (src/worker/tfjsBackendWasm.ts): threads work from the bundle.
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import {
  initBackend,
  planBackends,
  probeWebGpu,
  resetBackend,
  type BackendName,
  type GpuLike,
} from '../engine/backend';
import { MAX_WARM_UP_BATCH, ModelLoadError } from '../engine/model';
import {
  destroyDevice,
  failedFromDeviceLoss,
  unwatchDevice,
  watchDevice,
  type DeviceLostInfo,
} from './deviceLoss';
import { loadWorkerModel, type LoadedWorkerModel } from './modelLoader';
import type { BackendRuns, DebugAction, FromWorker, ToWorker } from './protocol';
import { wasmBackendInfo } from '../engine/wasmBackend';
import { planWasmThreads, wasmThreadsLine, type WasmThreadPlan } from '../engine/wasmThreads';
import { BatchSplitter } from './batchSplit';
import type { DenoiseModel } from '../engine/denoiser';
import { TFJS_WASM_PATHS } from './wasmPaths';
import {
  attachGpuTrace,
  gpuDenoiser,
  gpuPathReport,
  measureFootprint,
  registerWebGpuBackend,
  setGpuBufferLimitOverride,
} from './gpuPath';
import { webGpuDeviceInfo } from '../engine/gpu/webgpuDevice';
import { createDefer } from './defer';
import { RunController } from './runController';
import { computeElboReport } from '../engine/elbo/elboJob';

// In a worker the wasm files are not found relative to the page: point tfjs at Vite's URLs.
setWasmPaths(TFJS_WASM_PATHS);
// WebGPU on a device with shader-f16 where the adapter has it (gpuPath.ts).
registerWebGpuBackend();

const post = (message: FromWorker, transfer: Transferable[] = []) =>
  self.postMessage(message, { transfer });

// A running loop yields to Pause/Step/update between steps (see defer.ts).
const runs = new RunController(post, createDefer());
// A step that failed because the GPU device went away keeps its run: recovery rebuilds it.
runs.keepRunAfter = (err) => failedFromDeviceLoss(err);
let model: LoadedWorkerModel | null = null;
/** Settles when the engine is usable: after init, and again after recovering from a lost device. */
let engineReady: Promise<void> | null = null;
/** The backend the user asked for (null: automatic), kept for re-initialising after a loss. */
let backendOverride: BackendName | null = null;
/** wasm threads: every core where the page is cross-origin isolated, else one. */
let threadPlan: WasmThreadPlan = planWasmThreads(
  { crossOriginIsolated: self.crossOriginIsolated, hardwareConcurrency: 0 },
  null,
);
/**
 * In 'hybrid' and 'split' modes on wasm: the helper workers that compute slices of each call of
 * two or more images (batchSplit.ts). Started (or switched to the model) right after the first
 * such call, which runs here whole, as every call does until they are ready: so they do not
 * compete with the engine for the cores before the first frame (measured with bench/app.mjs:
 * started after the warm-up, they delayed it by ~100 ms on 2 cores), and runs of one image never
 * start them.
 */
let splitter: BatchSplitter | null = null;
/** The model the helpers were last asked to load (null: none yet). */
let helperModelId: string | null = null;

const splitPlanned = (backend: string | undefined) =>
  backend === 'wasm' &&
  threadPlan.isolated &&
  threadPlan.mode !== 'threads' &&
  threadPlan.workers > 1;

/** The split helpers, started if the plan wants them on the backend that runs, else stopped. */
function splitHelpers(): BatchSplitter | null {
  if (!splitPlanned(tf.getBackend())) {
    splitter?.stop();
    splitter = null;
    helperModelId = null;
    return null;
  }
  splitter ??= BatchSplitter.forMode(
    threadPlan.mode === 'split' ? 'split' : 'hybrid',
    threadPlan.threads,
    () => new Worker(new URL('./splitHelper.worker.ts', import.meta.url), { type: 'module' }),
  );
  return splitter;
}

/**
 * `model` (loaded as `id` from `url`) with its calls of two or more images cut across the split
 * helpers whenever they compute; the first such call has them load the model, once it is done.
 */
function splitDenoiser(model: DenoiseModel, id: string, url: string): DenoiseModel {
  const split = Object.create(model) as DenoiseModel;
  split.predict = (x, timesteps, classes) => {
    if (x.shape[0] >= 2 && helperModelId !== id && splitPlanned(tf.getBackend())) {
      helperModelId = id;
      // After this call and the frame it makes: a new task of this worker's event loop.
      setTimeout(() => {
        if (helperModelId === id) splitHelpers()?.loadModel(id, url);
      }, 0);
    }
    return splitter
      ? splitter.predict(model, id, x, timesteps, classes)
      : model.predict(x, timesteps, classes);
  };
  return split;
}

/** The backend line's lead and the thread facts behind it. */
function backendRuns(name: BackendName): BackendRuns {
  const isolated = self.crossOriginIsolated === true;
  if (name !== 'wasm') {
    const where = isolated ? 'cross-origin isolated' : 'not cross-origin isolated';
    const gpu = name === 'webgpu' ? webGpuDeviceInfo() : null;
    const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;
    return {
      summary: `${name} (${where})`,
      crossOriginIsolated: isolated,
      wasmThreads: null,
      detail: gpu
        ? `shader-f16 ${gpu.shaderF16 ? 'available' : 'not offered'}; kernels run float32; ` +
          `buffers bind up to ${mib(gpu.limits.maxStorageBufferBindingSize)}`
        : null,
    };
  }
  if (splitPlanned(name) && threadPlan.mode === 'split') {
    // 'split': one engine worker per thread, each single-threaded (batchSplit.ts).
    return {
      summary: wasmThreadsLine(threadPlan.workers, isolated),
      crossOriginIsolated: isolated,
      wasmThreads: threadPlan.workers,
      detail: `${threadPlan.why}: ${threadPlan.workers} engine workers of 1 thread each`,
    };
  }
  // 'threads' and 'hybrid': XNNPACK's pool in this worker ('hybrid' adds helpers for batches).
  const info = wasmBackendInfo();
  const threads = info?.threads ?? 1;
  const why = info?.problem
    ? `one thread: ${info.problem}`
    : threads === threadPlan.threads
      ? threadPlan.why
      : `${threads} of the ${threadPlan.threads} asked for (${threadPlan.why})`;
  return {
    summary: wasmThreadsLine(threads, isolated),
    crossOriginIsolated: isolated,
    wasmThreads: threads,
    detail: why,
  };
}

type Ready = FromWorker & { type: 'ready' };

/** Picks and starts a backend as the plan says, proves it computes, and watches its device. */
async function startBackend(): Promise<Ready> {
  const gpu = (self.navigator as Navigator & { gpu?: GpuLike }).gpu;
  const adapter = await probeWebGpu(gpu);
  // Read when the wasm backend is created: XNNPACK's pool in 'threads' and 'hybrid' modes.
  setThreadsCount(threadPlan.threadsPerWorker);
  const active = await initBackend(planBackends(adapter, backendOverride));
  attachGpuTrace();
  if (!splitPlanned(active.name)) splitHelpers(); // stops helpers of an earlier backend
  const n = 100;
  // Read back asynchronously: WebGPU's synchronous read-back loses the device under SwiftShader.
  const sum = tf.tidy(() => tf.range(1, n + 1).sum());
  const got = (await sum.data())[0];
  sum.dispose();
  watchDevice(onDeviceLost);
  return {
    type: 'ready',
    backend: active.name,
    reason: active.reason,
    failures: active.failures,
    adapter,
    tfjsVersion: tf.version_core,
    runs: backendRuns(active.name),
    selfCheck: { expected: (n * (n + 1)) / 2, got },
  };
}

async function init(message: ToWorker & { type: 'init' }): Promise<void> {
  backendOverride = message.backend;
  setGpuBufferLimitOverride(message.debugGpuBufferLimit ?? null);
  threadPlan = planWasmThreads(
    {
      crossOriginIsolated: self.crossOriginIsolated === true,
      hardwareConcurrency: self.navigator.hardwareConcurrency ?? 0,
    },
    message.wasmThreads ?? null,
    message.wasmMode ?? 'hybrid',
  );
  post(await startBackend());
}

/**
 * The device under WebGPU was lost: every tensor with it. Start the backend again (WebGPU if it
 * comes back, else the next in the fallback chain), rebuild the model from the bytes kept in
 * memory, and let the run continue from the last step the CPU still holds.
 */
function onDeviceLost(info: DeviceLostInfo): void {
  const lost = info.message ? `${info.reason}: ${info.message}` : info.reason;
  post({ type: 'deviceLost', reason: info.reason, detail: info.message });
  const previous = engineReady?.catch(() => undefined);
  engineReady = (async () => {
    await previous;
    let ready: Ready | null = null;
    const run = await runs.recoverRun(async () => {
      model?.releaseTensors();
      unwatchDevice();
      const name = tf.getBackend() as BackendName | undefined;
      if (name) resetBackend(name);
      ready = await startBackend();
      await model?.rebuild();
    });
    const { backend, reason, failures, runs: how } = ready!;
    post({ type: 'deviceRecovered', lost, backend, reason, failures, runs: how, run });
  })();
  engineReady.catch((err: unknown) =>
    post({
      type: 'error',
      context: 'recovering from a lost GPU device',
      message: (err as Error).message ?? String(err),
    }),
  );
}

/** Fault injection for tests and diagnostics; the page exposes it only with debug=1. */
function debug(action: DebugAction): void {
  switch (action) {
    case 'loseDevice':
      destroyDevice();
      return;
    case 'throw':
      // From an event handler, so nothing catches it: the page sees the worker's error event.
      setTimeout(() => {
        throw new Error('debug: an uncaught exception in the engine worker');
      });
      return;
    case 'close':
      self.close();
      return;
  }
}

/** The new model replaces the old one only once it has loaded and validated completely. */
async function loadModel(id: string, url: string, warmUpBatch = 2): Promise<void> {
  await engineReady?.catch(() => undefined);
  let lastReport = 0;
  let loaded: LoadedWorkerModel;
  try {
    loaded = await loadWorkerModel(id, url, (loadedBytes, totalBytes) => {
      const now = performance.now();
      if (now - lastReport < 50 && loadedBytes !== totalBytes) return;
      lastReport = now;
      post({ type: 'modelProgress', id, loadedBytes, totalBytes });
    });
    // On WebGPU: batches split to the adapter's limits, every call traced (gpuPath.ts).
    loaded.runModel.denoiser = gpuDenoiser(loaded.runModel.denoiser, id);
    // On wasm with every core: each call's batch cut across the helper workers (batchSplit.ts).
    loaded.runModel.denoiser = splitDenoiser(loaded.runModel.denoiser, id, url);
    await runs.setModel(loaded.runModel);
    model?.dispose();
    model = loaded;
    post({ type: 'modelLoaded', model: loaded.info });
    void loaded.loadClassifier().then((slot) => {
      if (model !== loaded) return;
      post({
        type: 'classifierStatus',
        modelId: id,
        available: !!slot.guide,
        problem: slot.problem,
      });
    });
  } catch (err) {
    const file = err instanceof ModelLoadError ? err.file : url;
    const problem = err instanceof ModelLoadError ? err.problem : (err as Error).message;
    post({ type: 'modelError', id, file, problem, kept: model?.info.id ?? null });
    return;
  }
  // After 'modelLoaded', so the UI is not held up; a run started meanwhile just waits for it
  // (one thread, one GPU queue). Only an optimisation: a failure here shows up again, with a
  // message, when a run predicts.
  try {
    // On wasm one image is enough: XNNPACK packs each layer's weights when the layer first runs,
    // whatever the batch. GPU backends compile shaders per shape: the run's own batch.
    const wanted = tf.getBackend() === 'wasm' ? 1 : Math.round(warmUpBatch) || 2;
    const batch = Math.min(Math.max(1, wanted), MAX_WARM_UP_BATCH);
    // On WebGPU the warm-up's dispatches are traced: the model's largest tensor per image sets
    // the batch limit (gpuPath.ts).
    await measureFootprint(batch, () => loaded.warmUp(batch));
  } catch {
    // See above.
  }
}

function handle(message: ToWorker): Promise<void> | void {
  switch (message.type) {
    case 'init':
      engineReady = init(message);
      return engineReady;
    case 'loadModel':
      return loadModel(message.id, message.url, message.warmUpBatch);
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
    case 'ping':
      post({ type: 'pong', id: message.id });
      return;
    case 'debug':
      return debug(message.action);
    case 'evaluate':
      return evaluate(message);
    case 'elbo':
      return elbo(message);
    case 'elboCancel':
      if (elboJob?.requestId === message.requestId) elboJob.cancelled = true;
      return;
  }
}

/** A bare model call for the debug hook: the model output as the loaded model gives it. */
async function evaluate(message: ToWorker & { type: 'evaluate' }): Promise<void> {
  await engineReady?.catch(() => undefined);
  const { requestId } = message;
  try {
    if (!model) throw new Error('no model is loaded');
    const denoiser = model.runModel.denoiser;
    const [h, w, c] = denoiser.imageShape;
    const x = tf.tensor4d(message.x, [message.classes.length, h, w, c]);
    // Profiled, so a test can see which kernels the backend ran (fused or plain tfjs ops).
    const profile = await tf.profile(() => denoiser.predict(x, message.timesteps, message.classes));
    const out = profile.result as tf.Tensor;
    const output = Array.from((await out.data()) as Float32Array);
    tf.dispose([x, out]);
    const kernels = [...new Set(profile.kernels.map((k) => k.name))].sort();
    const backend = tf.getBackend();
    post({
      type: 'evaluated',
      requestId,
      backend,
      output,
      kernels,
      gpu: gpuPathReport(),
      split: splitter?.report() ?? null,
      problem: null,
    });
  } catch (err) {
    const problem = (err as Error).message ?? String(err);
    const backend = tf.getBackend();
    post({ type: 'evaluated', requestId, backend, output: null, kernels: [], problem });
  }
}

/** The ELBO computation in progress; one model call per chunk, yielding between chunks. */
let elboJob: { requestId: number; cancelled: boolean } | null = null;
const deferElbo = createDefer();

async function elbo(message: ToWorker & { type: 'elbo' }): Promise<void> {
  await engineReady?.catch(() => undefined);
  if (elboJob) elboJob.cancelled = true;
  const job = { requestId: message.requestId, cancelled: false };
  elboJob = job;
  const { requestId } = message;
  try {
    if (!model) throw new Error('no model is loaded');
    if (model.runModel.latentSpace) {
      // Bits per dimension count pixels under a discretised Gaussian decoder; a latent pipeline's
      // bound would need the autoencoder's likelihood too, which it was not trained to give.
      throw new Error(
        `the ELBO in bits per pixel dimension is for pixel-space models; "${model.info.name}" ` +
          'denoises autoencoder latents, so its bound is not comparable. Choose an MNIST model.',
      );
    }
    const { denoiser, scheduleConfig } = model.runModel;
    const report = await computeElboReport(denoiser, scheduleConfig, message.request, {
      yieldNow: () => new Promise((resolve) => deferElbo(resolve)),
      onProgress: (pairsDone, pairsTotal) =>
        post({ type: 'elboProgress', requestId, pairsDone, pairsTotal }),
      cancelled: () => job.cancelled,
    });
    if (report) post({ type: 'elboResult', requestId, report });
    else post({ type: 'elboError', requestId, message: 'cancelled', cancelled: true });
  } catch (err) {
    const problem = (err as Error).message ?? String(err);
    post({ type: 'elboError', requestId, message: problem, cancelled: false });
  } finally {
    if (elboJob === job) elboJob = null;
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
  ping: 'answering the heartbeat',
  evaluate: 'evaluating the model (debug)',
  elbo: 'computing the ELBO',
  elboCancel: 'cancelling the ELBO',
  debug: 'running a debug command',
};

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  const fail = async (err: unknown) => {
    // A command that failed because the device went away: the recovery message says it all.
    if (message.type !== 'debug' && (await failedFromDeviceLoss(err))) return;
    post({
      type: 'error',
      context: CONTEXTS[message.type],
      message: (err as Error).message ?? String(err),
    });
  };
  try {
    handle(message)?.catch(fail);
  } catch (err) {
    void fail(err);
  }
};
