// One more engine worker, driven with the same commands as the main one (worker/protocol.ts):
// Compare runs its two sides in two lanes, the X/Y grid spreads its cells over them. A lane
// owns its own tensors in its own worker, so the main run, its frames and its Step back are
// untouched, and two lanes step in parallel on two cores. No tfjs on this thread.
import type { BackendName } from '../engine/backendNames';
import type { RunSettings } from '../engine/run/settings';
import type { ModelListing } from '../store';
import type { FrameData, FromWorker, ModelInfo, ToWorker } from '../worker/protocol';

export interface LaneStep {
  frame: FrameData;
  done: boolean;
}

type Waiter = {
  /** Returns a result to settle the wait with, or undefined to keep waiting. */
  match(message: FromWorker): { value: unknown } | undefined;
  resolve(value: unknown): void;
  reject(err: Error): void;
};

export class EngineLane {
  private readonly worker: Worker;
  private waiters: Waiter[] = [];
  private nextRunId = 1;
  private runId = 0;
  private lastFrame: FrameData | null = null;
  private broken: Error | null = null;
  readonly ready: Promise<BackendName>;
  modelId: string | null = null;

  constructor(readonly backend: BackendName | null) {
    this.worker = new Worker(new URL('../worker/engine.worker.ts', import.meta.url), {
      type: 'module',
    });
    this.worker.onmessage = (event: MessageEvent<FromWorker>) => this.receive(event.data);
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.fail(new Error(`the engine worker stopped (${event.message || 'script error'})`));
    };
    this.ready = this.waitFor<BackendName>((m) =>
      m.type === 'ready' ? { value: m.backend } : undefined,
    );
    // One wasm thread each (engine/wasmThreads.ts): the lanes already use the cores in parallel.
    this.send({ type: 'init', backend, wasmThreads: 1 });
  }

  /** Loads the model unless it is loaded already; rejects with the worker's reason. */
  async loadModel(listing: ModelListing): Promise<ModelInfo | null> {
    await this.ready;
    if (this.modelId === listing.id) return null;
    const loaded = this.waitFor<ModelInfo>((m) => {
      if (m.type === 'modelLoaded' && m.model.id === listing.id) return { value: m.model };
      if (m.type === 'modelError' && m.id === listing.id) {
        throw new Error(`${m.file}: ${m.problem}`);
      }
      return undefined;
    });
    this.send({ type: 'loadModel', id: listing.id, url: listing.url, warmUpBatch: 1 });
    const model = await loaded;
    this.modelId = listing.id;
    return model;
  }

  /** A new run set up at its start, paused (Step advances it). */
  start(settings: RunSettings): Promise<LaneStep> {
    return this.startRun(settings, false);
  }

  /** A new run played to its end; resolves with its last frame. */
  runToEnd(settings: RunSettings): Promise<LaneStep> {
    return this.startRun(settings, true, true);
  }

  /** One step of the current run (the worker posts its frame, then the run's state). */
  step(): Promise<LaneStep> {
    const runId = this.runId;
    const stepped = this.waitForState(runId, false);
    this.send({ type: 'step' });
    return stepped;
  }

  cancel(): void {
    this.send({ type: 'cancel' });
  }

  dispose(): void {
    this.worker.terminate();
    this.fail(new Error('the comparison was closed'));
  }

  private startRun(settings: RunSettings, autoplay: boolean, toEnd = false): Promise<LaneStep> {
    const runId = this.nextRunId++;
    this.runId = runId;
    this.lastFrame = null;
    const started = this.waitForState(runId, toEnd);
    this.send({ type: 'start', runId, settings, autoplay });
    return started;
  }

  /** The next state report of run `runId` (with `untilDone`, the one that says it is done). */
  private waitForState(runId: number, untilDone: boolean): Promise<LaneStep> {
    return this.waitFor<LaneStep>((m) => {
      if (m.type !== 'runState' || m.runId !== runId) return undefined;
      const done = m.state === 'done';
      if (untilDone && !done) return undefined;
      if (m.state === 'idle') throw new Error('the run stopped');
      if (!this.lastFrame) throw new Error('the run posted no frame');
      return { value: { frame: this.lastFrame, done } };
    });
  }

  private send(message: ToWorker): void {
    if (!this.broken) this.worker.postMessage(message);
  }

  private waitFor<T>(match: Waiter['match']): Promise<T> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise<T>((resolve, reject) => {
      this.waiters.push({ match, resolve: resolve as (v: unknown) => void, reject });
    });
  }

  private receive(message: FromWorker): void {
    if (message.type === 'frame' && message.runId === this.runId) this.lastFrame = message;
    if (message.type === 'error') {
      // Any failure of a command fails what waits on it: a lane does one thing at a time.
      const err = new Error(`${message.context}: ${message.message}`);
      const waiting = this.waiters;
      this.waiters = [];
      for (const w of waiting) w.reject(err);
      return;
    }
    for (const waiter of [...this.waiters]) {
      let result: { value: unknown } | undefined;
      try {
        result = waiter.match(message);
      } catch (err) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.reject(err as Error);
        continue;
      }
      if (result) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(result.value);
      }
    }
  }

  private fail(err: Error): void {
    this.broken = err;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.reject(err);
  }
}
