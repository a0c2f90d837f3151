// The UI side of the worker: starts it, forwards commands, and files replies into the store.
// It restarts the worker when the user picks another backend (tfjs cannot switch cleanly once
// tensors live on a backend).
import type { BackendName } from './engine/backendNames';
import type { SchedulePlanRequest } from './engine/schedulePlan';
import { useAppStore } from './store';
import type { FromWorker, ToWorker } from './worker/protocol';

let worker: Worker | null = null;
let nextRequestId = 1;
let latestPlanRequest = 0;

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
      break;
    case 'plan':
      // Replies can overtake each other; only the newest request's answer is shown.
      if (message.requestId === latestPlanRequest) store.setPlan(message.plan);
      break;
    case 'error':
      if (message.context === 'starting the engine') store.setEngine({ state: 'failed' });
      store.addMessage(`Error while ${message.context}: ${message.message}`);
      break;
  }
}

function send(message: ToWorker): void {
  worker?.postMessage(message);
}

export function startEngine(backend: BackendName | null): void {
  worker?.terminate();
  useAppStore.getState().setEngine({ state: 'starting', backend: null, reason: '' });
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

export function requestPlan(request: SchedulePlanRequest): void {
  latestPlanRequest = nextRequestId++;
  send({ type: 'plan', requestId: latestPlanRequest, request });
}
