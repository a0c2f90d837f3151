// The UI side of the worker: starts it, forwards commands, and files replies into the store.
// It restarts the worker when the user picks another backend (tfjs cannot switch cleanly once
// tensors live on a backend).
import type { BackendName } from './engine/backendNames';
import { buildRunSettings, planSettingsOf, runPatchOf, type RunControls } from './runControls';
import { currentSource, watchMask } from './sourceLink';
import { useAppStore, type ModelListing } from './store';
import type { FromWorker, RunState, ToWorker } from './worker/protocol';

let worker: Worker | null = null;
let nextRequestId = 1;
let latestRunPlanRequest = 0;
let nextRunId = 1;
/** True while the run in the worker was started with an inpainting mask (mask edits follow it). */
let runInpaints = false;

const STATUS_OF: Record<RunState, 'idle' | 'running' | 'paused' | 'done'> = {
  idle: 'idle',
  running: 'running',
  paused: 'paused',
  done: 'done',
};

function handle(message: FromWorker): void {
  const store = useAppStore.getState();
  switch (message.type) {
    case 'ready':
      store.setEngine({
        state: 'ready',
        backend: message.backend,
        reason: message.reason,
        failures: message.failures,
        adapter: message.adapter,
        tfjsVersion: message.tfjsVersion,
        selfCheckOk: message.selfCheck.got === message.selfCheck.expected,
      });
      loadChosenModel();
      break;
    case 'modelProgress':
      store.setModelProgress({ loadedBytes: message.loadedBytes, totalBytes: message.totalBytes });
      break;
    case 'modelLoaded':
      store.setModel(message.model);
      store.setModelProgress(null);
      store.setStatus('idle', false);
      clampClassToModel();
      requestRunPlan();
      break;
    case 'modelError': {
      const kept = message.kept;
      store.addMessage(
        `Could not load model "${message.id}": ${message.file}: ${message.problem}.` +
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
  worker?.terminate();
  const store = useAppStore.getState();
  store.setEngine({ state: 'starting', backend: null, reason: '' });
  store.setModel(null);
  if (store.status !== 'idle') store.setStatus('idle', false);
  worker = new Worker(new URL('./worker/engine.worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (event: MessageEvent<FromWorker>) => handle(event.data);
  worker.onerror = (event) => {
    useAppStore.getState().setEngine({ state: 'failed' });
    useAppStore
      .getState()
      .addMessage(`The engine worker stopped: ${event.message || 'unknown error'}`);
  };
  send({ type: 'init', backend });
}

/** Reads public/models/index.json; `wanted` is the id asked for in the URL, if any. */
export async function loadModelList(wanted: string | null): Promise<void> {
  const store = useAppStore.getState();
  const indexUrl = new URL(`${import.meta.env.BASE_URL}models/index.json`, window.location.href);
  let models: ModelListing[];
  try {
    const response = await fetch(indexUrl);
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    const json = (await response.json()) as {
      models?: { id: string; name: string; card: string }[];
    };
    models = (json.models ?? []).map((m) => ({
      id: m.id,
      name: m.name,
      // The card's folder is the model's folder: "mnist/card.json" -> ".../models/mnist/".
      url: new URL(m.card.replace(/[^/]*$/, ''), indexUrl).href,
    }));
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
        `Ignored model="${wanted}" in the URL: no such model (${models.map((m) => m.id).join(', ')}).`,
      );
    }
  }
  store.setControls({ modelId });
  loadChosenModel();
}

/** Loads the chosen model once both the engine and the model list are ready. */
function loadChosenModel(): void {
  const store = useAppStore.getState();
  const listing = store.models.find((m) => m.id === store.controls.modelId);
  if (!listing || store.engine.state !== 'ready' || store.model?.id === listing.id) return;
  store.setStatus('loading', false);
  send({ type: 'loadModel', id: listing.id, url: listing.url });
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
    const runPatch = runPatchOf(before, after);
    if (Object.keys(runPatch).length > 0) send({ type: 'update', patch: runPatch });
  } else {
    const plan = planSettingsOf(after);
    const old = planSettingsOf(before);
    if (JSON.stringify(plan) !== JSON.stringify(old)) requestRunPlan();
  }
}

// Mask edits reach a running inpainting run at its next step.
watchMask((inpaint) => {
  if (runInpaints && runIsActive()) send({ type: 'update', patch: { inpaint } });
});
