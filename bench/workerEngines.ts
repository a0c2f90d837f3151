// Our U-Net in an engine worker (bench/engineWorker.ts), as the app runs it, in any of three ways
// of using every core: 'threads' (XNNPACK's pool in the one worker), 'split' (helper workers
// compute slices of each call, src/worker/batchSplit.ts) or 'hybrid' (the app's default: the pool
// for one image, the helpers for batches). Each model call is posted to the worker and its output
// posted back, as the app's frames are.
import type { WasmMode } from '../src/engine/wasmThreads';
import type { ModelInput } from './inputs';
import type { FromEngineWorker, ToEngineWorker } from './engineWorker';

export interface WorkerEngineInfo {
  mode: WasmMode;
  /** Workers computing a call (1 in 'threads' mode). */
  workers: number;
  /** XNNPACK threads in the engine worker. */
  threadsPerWorker: number;
  build: string;
  isolated: boolean;
}

interface Pending {
  resolve: (out: Float32Array) => void;
  reject: (err: Error) => void;
}

class EngineWorker {
  readonly worker = new Worker(new URL('./engineWorker.ts', import.meta.url), { type: 'module' });
  private next = 1;
  private pending = new Map<number, Pending>();
  private onReady: ((m: FromEngineWorker & { type: 'ready' }) => void) | null = null;
  private onInitFailed: ((err: Error) => void) | null = null;

  constructor() {
    this.worker.onmessage = (event: MessageEvent<FromEngineWorker>) => {
      const m = event.data;
      if (m.type === 'ready') this.onReady?.(m);
      else if (m.type === 'output') this.settle(m.id)?.resolve(m.output);
      else if (m.id === null) this.onInitFailed?.(new Error(m.message));
      else this.settle(m.id)?.reject(new Error(m.message));
    };
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    return p;
  }

  init(
    modelUrl: string,
    threads: number,
    mode: WasmMode,
  ): Promise<FromEngineWorker & { type: 'ready' }> {
    return new Promise((resolve, reject) => {
      this.onReady = resolve;
      this.onInitFailed = reject;
      this.post({ type: 'init', modelUrl, threads, mode });
    });
  }

  eval(input: ModelInput): Promise<Float32Array> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ type: 'eval', id, ...input });
    });
  }

  private post(m: ToEngineWorker): void {
    this.worker.postMessage(m);
  }
}

/** One engine worker using `threads` threads the `mode` way. */
export class WorkerEngines {
  private constructor(
    private readonly engine: EngineWorker,
    readonly info: WorkerEngineInfo,
  ) {}

  static async start(modelUrl: string, threads: number, mode: WasmMode) {
    const engine = new EngineWorker();
    const ready = await engine.init(modelUrl, threads, mode);
    return new WorkerEngines(engine, {
      mode,
      workers: ready.workers,
      threadsPerWorker: ready.threads,
      build: ready.build,
      isolated: ready.isolated,
    });
  }

  eval(input: ModelInput): Promise<Float32Array> {
    return this.engine.eval(input);
  }

  stop(): void {
    this.engine.worker.terminate();
  }
}
