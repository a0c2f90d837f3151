// Every core on wasm without XNNPACK's thread pool: the batch of a model call is cut across the
// engine worker and helper workers (splitHelper.worker.ts), each running tfjs's single-threaded
// SIMD build with its own copy of the model. The call stays synchronous, as DenoiseModel.predict
// must be: inputs go to each helper through its SharedArrayBuffer, a message starts it, the engine
// computes its own slice meanwhile, then waits (Atomics.wait, allowed in a worker) until each
// helper has written its outputs back. Needs cross-origin isolation (SharedArrayBuffer). Why this
// rather than threads: src/engine/wasmThreads.ts.
import * as tf from '@tensorflow/tfjs-core';
import type { DenoiseModel } from '../engine/denoiser';

/** Control words at the start of each helper's buffer (Int32). */
export const CTRL = {
  /** Sequence number of the request the engine posted last. */
  request: 0,
  /** Sequence number of the request the helper finished last (the engine waits on this). */
  done: 1,
  /** 0: the finished request succeeded; 1: it failed (the engine computes that slice itself). */
  status: 2,
  batch: 3,
  height: 4,
  width: 5,
  channels: 6,
} as const;
const CTRL_WORDS = 8;

/** Byte offsets of a helper buffer holding up to `capacity` images of `pixels` values. */
export function splitLayout(capacity: number, pixels: number) {
  const timesteps = CTRL_WORDS * 4; // Float64, 8-aligned
  const classes = timesteps + capacity * 8; // Int32
  const x = classes + capacity * 4; // Float32
  const out = x + capacity * pixels * 4; // Float32, same shape as x (eps or v)
  return { timesteps, classes, x, out, bytes: out + capacity * pixels * 4 };
}

/** The batch cut into `parts` consecutive slices, as equal as possible, none empty. */
export function splitSizes(batch: number, parts: number): number[] {
  const n = Math.max(1, Math.min(parts, batch));
  return Array.from({ length: n }, (_, i) => Math.floor(batch / n) + (i < batch % n ? 1 : 0));
}

export type ToSplitHelper =
  | { type: 'buffer'; buffer: SharedArrayBuffer }
  | { type: 'load'; id: string; url: string }
  | { type: 'run'; seq: number };

export type FromSplitHelper =
  { type: 'ready'; id: string } | { type: 'failed'; id: string | null; message: string };

/**
 * How many images a helper buffer of `bytes` bytes holds (the inverse of splitLayout): the helper
 * reads its capacity off the buffer it was given.
 */
export function splitCapacity(bytes: number, pixels: number): number {
  return (bytes - CTRL_WORDS * 4) / (8 + 4 + 2 * pixels * 4);
}

/** How long the engine waits for a helper before computing its slice itself. */
const HELPER_TIMEOUT_MS = 60_000;

class Helper {
  readonly worker: Worker;
  buffer: SharedArrayBuffer | null = null;
  capacity = 0;
  pixels = 0;
  seq = 0;
  /** The model id the helper has loaded and warmed up. */
  readyFor: string | null = null;
  problem: string | null = null;

  constructor(create: () => Worker) {
    this.worker = create();
    this.worker.onmessage = (e: MessageEvent<FromSplitHelper>) => {
      const m = e.data;
      if (m.type === 'ready') {
        this.readyFor = m.id;
        this.problem = null;
      } else {
        this.readyFor = null;
        this.problem = m.message;
      }
    };
    this.worker.onerror = (e) => {
      e.preventDefault();
      this.readyFor = null;
      this.problem = e.message || 'the helper worker failed';
    };
  }

  post(m: ToSplitHelper): void {
    this.worker.postMessage(m);
  }

  /** A buffer for `images` images of `pixels` values (a new, larger one when needed). */
  views(images: number, pixels: number) {
    if (!this.buffer || images > this.capacity || pixels !== this.pixels) {
      this.capacity = Math.max(images, this.capacity, 4);
      this.pixels = pixels;
      this.buffer = new SharedArrayBuffer(splitLayout(this.capacity, pixels).bytes);
      this.post({ type: 'buffer', buffer: this.buffer });
    }
    const at = splitLayout(this.capacity, this.pixels);
    return {
      ctrl: new Int32Array(this.buffer, 0, CTRL_WORDS),
      timesteps: new Float64Array(this.buffer, at.timesteps, images),
      classes: new Int32Array(this.buffer, at.classes, images),
      x: new Float32Array(this.buffer, at.x, images * pixels),
      out: new Float32Array(this.buffer, at.out, images * pixels),
    };
  }
}

export interface SplitReport {
  /** Workers that compute slices of a batch now (the engine's own included where it computes). */
  workers: number;
  /** Slice sizes of the last call (null: it ran whole, on the engine worker). */
  lastSplit: number[] | null;
  /** Why a helper is not computing, if one is not. */
  problems: string[];
}

export class BatchSplitter {
  /**
   * The helpers for a plan of `threads` threads used the `mode` way (engine/wasmThreads.ts):
   * 'split', the engine computes a slice on its one thread beside threads - 1 helpers; 'hybrid',
   * one helper per thread while the engine, whose thread pool runs the calls of one image, waits.
   */
  static forMode(mode: 'split' | 'hybrid', threads: number, create: () => Worker): BatchSplitter {
    const engineComputes = mode === 'split';
    return new BatchSplitter(engineComputes ? threads - 1 : threads, create, engineComputes);
  }

  private readonly helpers: Helper[];
  private modelId: string | null = null;
  private lastSplit: number[] | null = null;

  /**
   * `helpers` helper workers, made by `create`. `engineComputes`: the engine worker computes the
   * first slice itself ('split' mode, single-threaded engine); false: the helpers compute every
   * slice while the engine waits ('hybrid' mode, whose engine keeps XNNPACK's pool for the calls
   * it runs whole: computing a slice with it beside the helpers would put more threads than
   * cores on the machine).
   */
  constructor(
    helpers: number,
    create: () => Worker,
    private readonly engineComputes = true,
  ) {
    this.helpers = Array.from({ length: Math.max(0, helpers) }, () => new Helper(create));
  }

  /** Every helper loads the model (they compute only once they have it). */
  loadModel(id: string, url: string): void {
    this.modelId = id;
    for (const h of this.helpers) {
      h.readyFor = null;
      h.post({ type: 'load', id, url });
    }
  }

  report(): SplitReport {
    const ready = this.helpers.filter((h) => h.readyFor === this.modelId);
    return {
      workers: (this.engineComputes ? 1 : 0) + ready.length,
      lastSplit: this.lastSplit,
      problems: this.helpers.flatMap((h) => (h.problem ? [h.problem] : [])),
    };
  }

  stop(): void {
    for (const h of this.helpers) h.worker.terminate();
  }

  /** `model` with each call of two or more images cut across the ready helpers. */
  wrap(model: DenoiseModel, id: string): DenoiseModel {
    const split = Object.create(model) as DenoiseModel;
    split.predict = (x, timesteps, classes) => this.predict(model, id, x, timesteps, classes);
    return split;
  }

  /** One call of `model` (loaded as `id`), cut across the helpers that have `id` ready. */
  predict(
    model: DenoiseModel,
    id: string,
    x: tf.Tensor4D,
    timesteps: number[],
    classes: number[],
  ): tf.Tensor4D {
    const [batch, height, width, channels] = x.shape;
    const ready = this.helpers.filter((h) => h.readyFor === id);
    const first = this.engineComputes ? 1 : 0; // slices the engine computes itself
    const parts = first + ready.length;
    // Whole, here: one image, or fewer than two workers to cut it across (one helper alone would
    // be slower than the engine's own thread pool).
    if (batch < 2 || parts < 2 || tf.getBackend() !== 'wasm') {
      this.lastSplit = null;
      return model.predict(x, timesteps, classes);
    }
    const sizes = splitSizes(batch, parts);
    this.lastSplit = sizes;
    const pixels = height * width * channels;
    return tf.tidy(() => {
      // Hand each helper its slice (the engine keeps the first where it computes), then compute
      // ours meanwhile.
      const jobs: { helper: Helper; seq: number; start: number; size: number }[] = [];
      let start = first ? sizes[0] : 0;
      for (let i = first; i < sizes.length; i++) {
        const helper = ready[i - first];
        const size = sizes[i];
        const v = helper.views(size, pixels);
        v.x.set(x.slice([start, 0, 0, 0], [size, -1, -1, -1]).dataSync() as Float32Array);
        v.timesteps.set(timesteps.slice(start, start + size));
        v.classes.set(classes.slice(start, start + size));
        Atomics.store(v.ctrl, CTRL.batch, size);
        Atomics.store(v.ctrl, CTRL.height, height);
        Atomics.store(v.ctrl, CTRL.width, width);
        Atomics.store(v.ctrl, CTRL.channels, channels);
        const seq = ++helper.seq;
        Atomics.store(v.ctrl, CTRL.request, seq);
        helper.post({ type: 'run', seq });
        jobs.push({ helper, seq, start, size });
        start += size;
      }
      const slice = (from: number, size: number) =>
        model.predict(
          x.slice([from, 0, 0, 0], [size, -1, -1, -1]),
          timesteps.slice(from, from + size),
          classes.slice(from, from + size),
        );
      const outputs: tf.Tensor4D[] = first ? [slice(0, sizes[0])] : [];
      for (const job of jobs) {
        const v = job.helper.views(job.size, pixels);
        if (this.await(v.ctrl, job.seq) && Atomics.load(v.ctrl, CTRL.status) === 0) {
          outputs.push(tf.tensor4d(v.out.slice(), [job.size, height, width, channels]));
        } else {
          // A helper that failed or hangs: its slice is computed here, and it is not used again.
          job.helper.readyFor = null;
          job.helper.problem ??= 'a helper worker did not answer';
          outputs.push(slice(job.start, job.size));
        }
      }
      return tf.concat(outputs, 0);
    });
  }

  /** Waits until the helper finished request `seq`; false on timeout. */
  private await(ctrl: Int32Array, seq: number): boolean {
    const deadline = performance.now() + HELPER_TIMEOUT_MS;
    for (;;) {
      const done = Atomics.load(ctrl, CTRL.done);
      if (done === seq) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(ctrl, CTRL.done, done, left);
    }
  }
}
