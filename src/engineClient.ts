// The UI side of the worker: starts it, forwards commands, and files replies into the store.
// It restarts the worker when the user picks another backend (tfjs cannot switch cleanly once
// tensors live on a backend), and when the worker crashes or stops answering its heartbeat: the
// source, mask and settings live on this thread, so only the run in progress is lost.
import { debugEnabled, installDebugHooks, type Evaluation } from './debugHooks';
import { guidedBatchSize } from './engine/guidance';
import { parseThreadsParam, parseWasmMode } from './engine/wasmThreads';
import type { BackendName } from './engine/backendNames';
import type { ElboReport, ElboRequest } from './engine/elbo/elboJob';
import type { InpaintSettings, RunSettings } from './engine/run/settings';
import { buildRunSettings, planSettingsOf, runPatchOf, type RunControls } from './runControls';
import { currentSource, watchMask } from './sourceLink';
import { useAppStore, type ModelListing } from './store';
import type { FromWorker, RunState, ToWorker } from './worker/protocol';

let worker: Worker | null = null;
/** Heartbeat: a ping every second; a worker that leaves one unanswered too long has stopped. */
const HEARTBEAT_MS = 1000;
/**
 * How long a ping may go unanswered: a model call blocks the worker, tfjs-cpu is slow, and WebGL
 * compiles its shaders synchronously in a run's first step (20+ s on a busy software GL).
 */
const HANG_MS = { default: 20_000, slow: 120_000 };
/** More restarts than this within a minute: the engine cannot run here; stop trying. */
const MAX_RESTARTS_PER_MINUTE = 3;
let heartbeat: ReturnType<typeof setInterval> | null = null;
let pingId = 0;
let pingSentAt: number | null = null;
let restarts: number[] = [];
let nextRequestId = 1;
let latestRunPlanRequest = 0;
let nextRunId = 1;
/** True while the run in the worker was started with an inpainting mask (mask edits follow it). */
let runInpaints = false;
/** For an outpainting run started in Inpaint mode: the editor's mask placed on its canvas. */
let runPlacesMask: ((inpaint: InpaintSettings) => InpaintSettings) | null = null;
/** The batch size the run in the worker was started with (the controls' applies to the next run). */
let runBatchSize = 1;

const STATUS_OF: Record<RunState, 'idle' | 'running' | 'paused' | 'done'> = {
  idle: 'idle',
  running: 'running',
  paused: 'paused',
  done: 'done',
};

/** A value from a URL or a file, short enough to show in a message. */
const shown = (raw: string) => (raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);

function handle(message: FromWorker): void {
  const store = useAppStore.getState();
  switch (message.type) {
    case 'pong':
      if (message.id === pingId) pingSentAt = null;
      break;
    case 'elboProgress':
      elboRequests.get(message.requestId)?.onProgress(message.pairsDone, message.pairsTotal);
      break;
    case 'elboResult':
      elboRequests.get(message.requestId)?.onResult(message.report);
      elboRequests.delete(message.requestId);
      break;
    case 'elboError':
      elboRequests.get(message.requestId)?.onError(message.message, message.cancelled);
      elboRequests.delete(message.requestId);
      break;
    case 'evaluated': {
      const pending = evaluations.get(message.requestId);
      evaluations.delete(message.requestId);
      if (!pending) break;
      const { backend, output, kernels } = message;
      if (output) {
        pending.resolve({
          backend,
          output,
          kernels,
          gpu: message.gpu ?? null,
          split: message.split ?? null,
        });
      } else pending.reject(new Error(message.problem ?? 'no output'));
      break;
    }
    case 'deviceLost':
      store.setEngine({
        state: 'starting',
        reason: `the GPU device was lost (${message.reason}); starting the engine again`,
      });
      break;
    case 'deviceRecovered': {
      store.setEngine({
        state: 'ready',
        backend: message.backend,
        reason: message.reason,
        failures: message.failures,
        runs: message.runs,
      });
      const how =
        message.backend === 'webgpu'
          ? 're-initialised WebGPU'
          : `switched to ${message.backend} (${message.reason})`;
      const run = message.run;
      const where = !run
        ? ''
        : run.restarted
          ? ' The run in progress started again from its first step.'
          : ` The run continues from step ${run.step}.`;
      store.addMessage(
        `The GPU device was lost (${message.lost}); ${how} and reloaded the model.${where}`,
      );
      break;
    }
    case 'ready':
      store.setEngine({
        state: 'ready',
        backend: message.backend,
        reason: message.reason,
        failures: message.failures,
        adapter: message.adapter,
        tfjsVersion: message.tfjsVersion,
        selfCheckOk: message.selfCheck.got === message.selfCheck.expected,
        runs: message.runs,
      });
      startHeartbeat();
      loadChosenModel();
      break;
    case 'modelProgress':
      store.setModelProgress({ loadedBytes: message.loadedBytes, totalBytes: message.totalBytes });
      break;
    case 'modelLoaded':
      store.setModel(message.model);
      store.setModelProgress(null);
      store.setClassifier(null);
      store.setStatus('idle', false);
      clampClassToModel();
      requestRunPlan();
      break;
    case 'classifierStatus':
      store.setClassifier({
        modelId: message.modelId,
        available: message.available,
        problem: message.problem,
      });
      break;
    case 'modelError': {
      const kept = message.kept;
      store.addMessage(
        `Could not load model "${shown(message.id)}": ${message.file}: ${message.problem}.` +
          (kept ? ` Still using "${kept}".` : ''),
      );
      store.setModelProgress(null);
      store.setControls({ modelId: kept ?? store.controls.modelId });
      store.setStatus(kept ? 'idle' : 'error', false);
      break;
    }
    case 'runPlan':
      // Replies can overtake each other; only the newest request's answer is shown.
      if (message.requestId === latestRunPlanRequest && !runIsActive()) {
        store.setRunPlan(message.plan);
      }
      break;
    case 'runPlanChanged':
      if (message.runId === store.runId) store.setRunPlan(message.plan);
      break;
    case 'runState':
      if (message.runId === store.runId && store.status !== 'loading') {
        store.setStatus(STATUS_OF[message.state], message.canStepBack);
      }
      break;
    case 'frame':
      store.receiveFrame(message);
      break;
    case 'error':
      if (message.context === 'recovering from a lost GPU device') {
        // The worker could not start a backend again by itself: a fresh worker may.
        restartWorker(`it could not recover from a lost GPU device: ${message.message}`);
        return;
      }
      if (message.context === 'starting the engine') store.setEngine({ state: 'failed' });
      if (message.context === 'running the model' || message.context === 'starting the run') {
        store.setStatus('error', false);
      }
      store.addMessage(`Error while ${message.context}: ${message.message}`);
      break;
  }
}

function send(message: ToWorker): void {
  worker?.postMessage(message);
}

function runIsActive(): boolean {
  const status = useAppStore.getState().status;
  return status === 'running' || status === 'paused';
}

export function startEngine(backend: BackendName | null): void {
  stopHeartbeat();
  worker?.terminate();
  failElboRequests('the engine restarted; press Compute ELBO again');
  const store = useAppStore.getState();
  store.setEngine({ state: 'starting', backend: null, reason: '', runs: null });
  store.setModel(null);
  if (store.status !== 'idle') store.setStatus('idle', false);
  const started = new Worker(new URL('./worker/engine.worker.ts', import.meta.url), {
    type: 'module',
  });
  worker = started;
  started.onmessage = (event: MessageEvent<FromWorker>) => {
    if (worker === started) handle(event.data);
  };
  started.onerror = (event) => {
    // Handled here: not reported again as an error of the page.
    event.preventDefault();
    if (worker !== started) return;
    restartWorker(event.message || 'its script could not run');
  };
  // ?threads=N, ?wasmMode=hybrid|threads|split: wasm threads (tests compare 1 with all; see
  // engine/wasmThreads.ts).
  const params = new URLSearchParams(window.location.search);
  const threads = parseThreadsParam(params.get('threads'));
  const wasmMode = parseWasmMode(params.get('wasmMode'));
  // debug=1&gpuBufferLimit=N: plan GPU batches for an adapter that binds N bytes (e2e).
  const limit = debugEnabled(window.location.search)
    ? Number(new URLSearchParams(window.location.search).get('gpuBufferLimit')) || null
    : null;
  send({ type: 'init', backend, wasmThreads: threads, wasmMode, debugGpuBufferLimit: limit });
}

function stopHeartbeat(): void {
  if (heartbeat !== null) clearInterval(heartbeat);
  heartbeat = null;
  pingSentAt = null;
}

/** How long the worker may leave a ping unanswered: a slow step is not a hang. */
function hangTimeoutMs(): number {
  const { engine, frames } = useAppStore.getState();
  const slowestStep = frames.slice(-10).reduce((max, f) => Math.max(max, f.totalMs), 0);
  const slow = engine.backend === 'cpu' || engine.backend === 'webgl';
  const base = slow ? HANG_MS.slow : HANG_MS.default;
  return Math.max(base, 5 * slowestStep);
}

function startHeartbeat(): void {
  stopHeartbeat();
  heartbeat = setInterval(() => {
    if (!worker) return;
    const now = performance.now();
    if (pingSentAt === null) {
      pingSentAt = now;
      send({ type: 'ping', id: ++pingId });
    } else if (now - pingSentAt > hangTimeoutMs()) {
      const seconds = Math.round((now - pingSentAt) / 1000);
      restartWorker(`it did not answer for ${seconds} s`);
    }
  }, HEARTBEAT_MS);
}

/**
 * The worker crashed or hangs: a new one starts on the same backend choice and loads the same
 * model. The source image, mask and settings live on this thread and stay; a run in progress
 * is lost (its frames stay on screen) and Generate starts it again.
 */
function restartWorker(why: string): void {
  const store = useAppStore.getState();
  const now = Date.now();
  restarts = restarts.filter((t) => now - t < 60_000);
  if (restarts.length >= MAX_RESTARTS_PER_MINUTE) {
    stopHeartbeat();
    worker?.terminate();
    worker = null;
    store.setEngine({ state: 'failed' });
    store.setModel(null);
    store.setStatus('error', false);
    store.addMessage(
      `The engine stopped (${why}) ${restarts.length + 1} times within a minute, so it was not ` +
        'restarted again. Reload the page to try again.',
    );
    return;
  }
  restarts.push(now);
  const lastFrame = store.frames.at(-1);
  const lostRun =
    runIsActive() && lastFrame
      ? ` The run in progress stopped at step ${lastFrame.step}; press Generate to run it again.`
      : '';
  store.addMessage(`The engine stopped (${why}) and was restarted.${lostRun}`);
  runInpaints = false;
  startEngine(store.backendChoice);
}

/** Reads public/models/index.json; `wanted` is the id asked for in the URL, if any. */
export async function loadModelList(wanted: string | null): Promise<void> {
  const store = useAppStore.getState();
  const indexUrl = new URL(`${import.meta.env.BASE_URL}models/index.json`, window.location.href);
  let models: ModelListing[];
  try {
    const response = await fetch(indexUrl);
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    const json = (await response.json()) as { models?: unknown } | null;
    models = listedModels(json?.models, indexUrl, store.addMessage);
  } catch (err) {
    store.addMessage(
      `Could not read the model list ${indexUrl.pathname}: ${(err as Error).message}`,
    );
    store.setStatus('error');
    return;
  }
  if (models.length === 0) {
    store.addMessage(`The model list ${indexUrl.pathname} names no models.`);
    return;
  }
  store.setModels(models);
  let modelId = models[0].id;
  if (wanted !== null) {
    if (models.some((m) => m.id === wanted)) modelId = wanted;
    else {
      store.addMessage(
        `Ignored model="${shown(wanted)}" in the URL: no such model ` +
          `(${models.map((m) => m.id).join(', ')}).`,
      );
    }
  }
  store.setControls({ modelId });
  loadChosenModel();
}

/**
 * The usable entries of index.json: an id, a name, and a card inside this site. A broken entry
 * is skipped with a message; the others still load.
 */
function listedModels(
  entries: unknown,
  indexUrl: URL,
  warn: (message: string) => void,
): ModelListing[] {
  if (!Array.isArray(entries)) throw new Error('"models" is not a list');
  const models: ModelListing[] = [];
  entries.forEach((entry: unknown, i) => {
    const m = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const { id, name, card } = m;
    const skip = (problem: string) =>
      warn(`Skipped model ${i + 1} of ${indexUrl.pathname}: ${problem}.`);
    if (typeof id !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,63}$/i.test(id)) {
      return skip(`its id ${shown(JSON.stringify(id) ?? 'undefined')} is not a model id`);
    }
    if (typeof card !== 'string' || !card.endsWith('card.json')) {
      return skip(`model "${id}" names no card.json`);
    }
    // The card's folder is the model's folder: "mnist/card.json" -> ".../models/mnist/".
    const url = new URL(card.replace(/[^/]*$/, ''), indexUrl);
    if (url.origin !== indexUrl.origin) return skip(`model "${id}" lies on another site`);
    if (models.some((other) => other.id === id)) return skip(`model "${id}" is listed twice`);
    models.push({ id, name: typeof name === 'string' ? name : id, url: url.href });
  });
  return models;
}

/** Loads the chosen model once both the engine and the model list are ready. */
function loadChosenModel(): void {
  const store = useAppStore.getState();
  const listing = store.models.find((m) => m.id === store.controls.modelId);
  if (!listing || store.engine.state !== 'ready' || store.model?.id === listing.id) return;
  store.setStatus('loading', false);
  // The worker warms the model up at the batch a run with these controls would use.
  const { batchSize, guidanceScale } = store.controls;
  const warmUpBatch = guidedBatchSize(batchSize, guidanceScale);
  send({ type: 'loadModel', id: listing.id, url: listing.url, warmUpBatch });
}

/** A class id the URL asked for that the model does not have falls back to class 0. */
let urlClassPending: number | null = null;
export function setUrlClass(classId: number | null): void {
  urlClassPending = classId;
}

function clampClassToModel(): void {
  const store = useAppStore.getState();
  const model = store.model;
  if (!model) return;
  const wanted = urlClassPending ?? store.controls.classId;
  urlClassPending = null;
  if (wanted >= 0 && wanted <= model.nullClassId) {
    if (wanted !== store.controls.classId) store.setControls({ classId: wanted });
    return;
  }
  store.addMessage(
    `Ignored class=${wanted}: model "${model.id}" has classes 0 to ${model.nullClassId - 1} ` +
      `(and ${model.nullClassId} for no class).`,
  );
  store.setControls({ classId: 0 });
}

export function requestRunPlan(): void {
  const { model, controls } = useAppStore.getState();
  if (!model) return;
  latestRunPlanRequest = nextRequestId++;
  send({ type: 'runPlan', requestId: latestRunPlanRequest, settings: planSettingsOf(controls) });
}

/** Starts a new run with the current controls; `autoplay: false` stops it at the start. */
export function generate(autoplay = true): void {
  const store = useAppStore.getState();
  if (!store.model || store.status === 'loading') return;
  const source = currentSource();
  runInpaints = source.inpaint !== null;
  runPlacesMask = null;
  runBatchSize = store.controls.batchSize;
  const runId = nextRunId++;
  store.beginRun(runId);
  store.setStatus(autoplay ? 'running' : 'paused', false);
  send({
    type: 'start',
    runId,
    settings: buildRunSettings(store.controls, source),
    autoplay,
  });
}

/**
 * Starts `settings` as a new run: outpainting builds its own (components/outpaint). The editor's
 * mask edits reach it through `placeMask`, which puts the 28×28 mask on its canvas.
 */
export function startRun(
  settings: RunSettings,
  placeMask: ((inpaint: InpaintSettings) => InpaintSettings) | null = null,
): void {
  const store = useAppStore.getState();
  if (!store.model || store.status === 'loading') return;
  runInpaints = false;
  runPlacesMask = placeMask;
  runBatchSize = settings.seeds.length;
  const runId = nextRunId++;
  store.beginRun(runId);
  store.setStatus('running', false);
  send({ type: 'start', runId, settings, autoplay: true });
}

export function pause(): void {
  send({ type: 'pause' });
}

export function resume(): void {
  send({ type: 'resume' });
}

/** One step; with no run yet it sets one up at the start and takes its first step. */
export function step(): void {
  const status = useAppStore.getState().status;
  if (status === 'idle' || status === 'error') generate(false);
  send({ type: 'step' });
}

export function stepBack(): void {
  send({ type: 'stepBack' });
}

export function cancel(): void {
  send({ type: 'cancel' });
}

/** Space: pause a running run, resume a paused one, otherwise generate. */
export function playPause(): void {
  const status = useAppStore.getState().status;
  if (status === 'running') pause();
  else if (status === 'paused') resume();
  else generate();
}

/**
 * Changes the controls. A run in progress takes guidance, eta, class, sampler, steps, spacing and
 * schedule at its next step (the worker re-plans from the current noise level); seed, batch size
 * and model apply to the next run. A new model cancels the run and loads.
 */
export function changeControls(patch: Partial<RunControls>): void {
  const store = useAppStore.getState();
  const before = store.controls;
  store.setControls(patch);
  const after = useAppStore.getState().controls;
  if (after.modelId !== before.modelId) {
    cancel();
    loadChosenModel();
    return;
  }
  if (runIsActive()) {
    const runPatch = runPatchOf(before, after, runBatchSize);
    if (Object.keys(runPatch).length > 0) send({ type: 'update', patch: runPatch });
  } else {
    const plan = planSettingsOf(after);
    const old = planSettingsOf(before);
    if (JSON.stringify(plan) !== JSON.stringify(old)) requestRunPlan();
  }
}

export interface ElboCallbacks {
  onProgress(pairsDone: number, pairsTotal: number): void;
  onResult(report: ElboReport): void;
  onError(message: string, cancelled: boolean): void;
}

/** ELBO requests waiting for the worker's answer, by request id. */
const elboRequests = new Map<number, ElboCallbacks>();

function failElboRequests(why: string): void {
  for (const callbacks of elboRequests.values()) callbacks.onError(why, false);
  elboRequests.clear();
}

/**
 * Computes the ELBO of one image in the worker (the panel in components/elbo). Refused while a
 * run goes on: both would share the one engine thread. Returns a function that cancels it.
 */
export function computeElbo(request: ElboRequest, callbacks: ElboCallbacks): () => void {
  const store = useAppStore.getState();
  if (!store.model || store.status === 'loading') {
    callbacks.onError('No model is loaded yet.', false);
    return () => {};
  }
  if (runIsActive()) {
    callbacks.onError('A run is in progress: cancel it or let it finish, then compute.', false);
    return () => {};
  }
  const requestId = nextRequestId++;
  elboRequests.set(requestId, callbacks);
  send({ type: 'elbo', requestId, request });
  return () => send({ type: 'elboCancel', requestId });
}

/** Debug-hook model calls waiting for the worker's answer, by request id. */
const evaluations = new Map<
  number,
  { resolve: (e: Evaluation) => void; reject: (err: Error) => void }
>();

installDebugHooks(
  window.location.search,
  (action) => send({ type: 'debug', action }),
  (x, timesteps, classes) =>
    new Promise<Evaluation>((resolve, reject) => {
      const requestId = nextRequestId++;
      evaluations.set(requestId, { resolve, reject });
      send({ type: 'evaluate', requestId, x, timesteps, classes });
    }),
);

// Mask edits reach a running inpainting run at its next step.
watchMask((inpaint) => {
  if (runInpaints && runIsActive()) send({ type: 'update', patch: { inpaint } });
});

// An outpainting run's mask edits, placed on its canvas.
watchMask((inpaint) => {
  if (runPlacesMask && runIsActive()) {
    send({ type: 'update', patch: { inpaint: runPlacesMask(inpaint) } });
  }
});
