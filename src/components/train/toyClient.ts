// The page's side of the toy training worker: starts it once, turns the store's settings into
// commands and the worker's reports into store updates. The worker is module-level, so leaving
// the Train view does not stop or lose a run.
import { isBackendName } from '../../engine/backendNames';
import { presetPoints, textProblem } from '../../engine/train/datasets';
import { configProblems, samplerProblem } from '../../engine/train/toyConfig';
import type { FromToyWorker, ToToyWorker } from '../../worker/toyProtocol';
import { appendLosses, say, useTrainStore, type DataChoice } from './trainStore';

/** Points a preset gives the model (and the Data view shows). */
export const PRESET_POINT_COUNT = 4000;
const PRESET_SEED = 7;

let worker: Worker | null = null;

function send(message: ToToyWorker, transfer: Transferable[] = []): void {
  if (!worker) startToyWorker();
  worker?.postMessage(message, transfer);
}

export function startToyWorker(): void {
  if (worker) return;
  worker = new Worker(new URL('../../worker/toy.worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (event: MessageEvent<FromToyWorker>) => handle(event.data);
  worker.onerror = (event) => {
    say('error', `The training worker failed: ${event.message || 'unknown error'}`);
    useTrainStore.setState({ status: 'idle', sampling: false });
  };
  const requested = new URLSearchParams(location.search).get('backend');
  worker.postMessage({
    type: 'init',
    backend: isBackendName(requested) ? requested : null,
  } satisfies ToToyWorker);
}

function handle(message: FromToyWorker): void {
  const set = useTrainStore.setState;
  switch (message.type) {
    case 'ready':
      set({ backend: message.backend, backendReason: message.reason });
      return;
    case 'progress':
      set((s) => ({
        status: message.state,
        step: message.step,
        losses: appendLosses(s.losses, message.losses),
        bucketEma: message.bucketEma,
        stepsPerSecond: message.stepsPerSecond > 0 ? message.stepsPerSecond : s.stepsPerSecond,
        parameters: message.parameters,
        pointsUsed: { train: message.trainPoints, heldOut: message.heldOutPoints },
      }));
      return;
    case 'stopped':
      set({ status: message.state, step: message.step });
      if (message.message) say(message.state === 'diverged' ? 'error' : 'info', message.message);
      return;
    case 'samples':
      set({ samples: message, frame: 0, playing: true, sampling: false });
      return;
    case 'exported':
      downloadJson(message.json);
      return;
    case 'loaded': {
      set({
        model: message.model,
        train: message.train,
        step: message.step,
        status: 'paused',
        data: 'drawn',
        drawn: Array.from(message.points),
        losses: [],
        bucketEma: [],
        samples: null,
      });
      say(
        'info',
        `Loaded a model trained for ${message.step} steps; its training points are shown as a drawing.`,
      );
      return;
    }
    case 'error':
      set({ sampling: false });
      say('error', message.message);
      return;
  }
}

function downloadJson(json: string): void {
  const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = 'toy-diffusion-model.json';
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The points the current data choice stands for (data space), or a message saying why none. */
export function pointsFor(
  data: DataChoice,
  text: string,
  drawn: readonly number[],
): { points: Float32Array } | { problem: string } {
  if (data === 'drawn') return { points: Float32Array.from(drawn) };
  if (data === 'text') {
    const problem = textProblem(text);
    if (problem) return { problem };
  }
  return { points: presetPoints(data, PRESET_POINT_COUNT, PRESET_SEED, text) };
}

export function currentPoints(): { points: Float32Array } | { problem: string } {
  const s = useTrainStore.getState();
  return pointsFor(s.data, s.text, s.drawn);
}

export function train(): void {
  const s = useTrainStore.getState();
  const problems = configProblems(s.model, s.train);
  if (problems.length > 0) {
    say('error', problems.join('; '));
    return;
  }
  const chosen = currentPoints();
  if ('problem' in chosen) {
    say('error', chosen.problem);
    return;
  }
  // Refused before the worker sees it, with the same words the worker would use.
  const count = chosen.points.length / 2;
  if (count < 8) {
    say(
      'error',
      count === 0
        ? 'There is no data: draw a shape (or pick a preset) before training.'
        : `Only ${count} point${count === 1 ? '' : 's'}: draw at least 8 to make a shape.`,
    );
    return;
  }
  useTrainStore.setState({
    status: 'training',
    step: 0,
    losses: [],
    bucketEma: [],
    samples: null,
    pointsUsed: null,
  });
  send(
    { type: 'train', points: chosen.points, model: s.model, train: s.train, maxSteps: s.maxSteps },
    [chosen.points.buffer],
  );
}

export function pauseTraining(): void {
  send({ type: 'pause' });
}

export function resumeTraining(): void {
  useTrainStore.setState({ status: 'training' });
  send({ type: 'resume', maxSteps: useTrainStore.getState().maxSteps });
}

export function resetTraining(): void {
  send({ type: 'reset' });
  useTrainStore.setState({
    status: 'idle',
    step: 0,
    losses: [],
    bucketEma: [],
    samples: null,
    pointsUsed: null,
    stepsPerSecond: 0,
  });
}

/** Score arrows per side of the grid. */
const FIELD_SIZE = 17;

export function sample(): void {
  const s = useTrainStore.getState();
  if (s.status === 'idle') {
    say('error', 'There is no model yet: press Train first (or Load model).');
    return;
  }
  const problem = samplerProblem(s.sampler, s.sampleSteps, s.model);
  if (problem) {
    say('error', problem);
    return;
  }
  useTrainStore.setState({ sampling: true, playing: false });
  send({
    type: 'sample',
    sampler: s.sampler,
    steps: s.sampleSteps,
    count: s.particles,
    seed: s.train.seed + 1000,
    fieldSize: FIELD_SIZE,
  });
}

export function exportModel(): void {
  send({ type: 'export' });
}

export function loadModel(json: string): void {
  send({ type: 'load', json });
}
