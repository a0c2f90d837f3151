// Messages between the UI thread and the engine worker. Plain data only (structured clone);
// frame pixels travel as transferable ArrayBuffers.
import type { AdapterReport, BackendName } from '../engine/backend';
import type { GpuPathReport } from './gpuPath';
import type { SplitReport } from './batchSplit';
import type { WasmMode } from '../engine/wasmThreads';
import type { ElboReport, ElboRequest } from '../engine/elbo/elboJob';
import type { PlanSettings } from '../engine/run/schedulerConfig';
import type { RunSettings } from '../engine/run/settings';
import type { SchedulePlan } from '../engine/schedulePlan';

/** What a run can change while it goes on (takes effect at the next step). */
export type RunPatch = Partial<
  Pick<
    RunSettings,
    | 'sampler'
    | 'steps'
    | 'spacing'
    | 'sigmaSchedule'
    | 'guidanceScale'
    | 'eta'
    | 'classes'
    | 'resampleCount'
    | 'jumpLength'
    | 'classifierGuidanceScale'
    | 'langevinSteps'
    | 'langevinSnr'
    | 'prompt'
    | 'negativePrompt'
  >
> & { inpaint?: RunSettings['inpaint'] };

/** The part of the settings that decides which timesteps a run visits. */
export type { PlanSettings };

export type ToWorker =
  /** wasmThreads: the page's ?threads=N (null: automatic, see engine/wasmThreads.ts). */
  | {
      type: 'init';
      backend: BackendName | null;
      wasmThreads?: number | null;
      /** ?wasmMode=threads|split|hybrid (the default): how wasm uses the cores (wasmThreads.ts). */
      wasmMode?: WasmMode;
      /** debug=1&gpuBufferLimit=N: plan GPU batches as if the adapter bound at most N bytes. */
      debugGpuBufferLimit?: number | null;
    }
  /** `url` is the model folder, absolute (the worker's own base URL is its script's). */
  /** warmUpBatch: the model batch the next run will likely use (see engine/model/warmUp.ts). */
  | { type: 'loadModel'; id: string; url: string; warmUpBatch?: number }
  /** The plan a run with these settings would follow on the loaded model. */
  | { type: 'runPlan'; requestId: number; settings: PlanSettings }
  /** `autoplay: false` sets the run up paused at step 0 (a Step press before any run). */
  | { type: 'start'; runId: number; settings: RunSettings; autoplay: boolean }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'step' }
  | { type: 'stepBack' }
  | { type: 'cancel' }
  | { type: 'update'; patch: RunPatch }
  /** Heartbeat: the worker answers `pong` with the same id (a dead or hung worker does not). */
  | { type: 'ping'; id: number }
  /** Fault injection for tests and diagnostics (the page's debug=1 hook). */
  | { type: 'debug'; action: DebugAction }
  /**
   * One bare model call on the loaded model (the page's debug=1 hook, for parity checks in the
   * browser): x NHWC, flat, one image per class id.
   */
  | { type: 'evaluate'; requestId: number; x: number[]; timesteps: number[]; classes: number[] }
  /** The ELBO of one image on the loaded model, in chunks (a newer request cancels an older). */
  | { type: 'elbo'; requestId: number; request: ElboRequest }
  | { type: 'elboCancel'; requestId: number };

/**
 * loseDevice: destroy the WebGPU device under tfjs; throw: an uncaught exception from an event
 * handler; close: the worker ends itself.
 */
export type DebugAction = 'loseDevice' | 'throw' | 'close';

export type RunState = 'idle' | 'running' | 'paused' | 'done';

/** Why a frame was posted ('update': the plan changed under the current image). */
export type FrameCause = 'start' | 'run' | 'step' | 'back' | 'pause' | 'update' | 'final';

/**
 * One view of the whole batch: batch × height × width × channels bytes (NHWC), 0..255, or null
 * when the view does not exist yet (the starting noise has no prediction).
 */
export type ViewBytes = ArrayBuffer | null;

export interface FrameData {
  runId: number;
  /** Position along the run's path: 0 = starting noise, +1 per step, -1 per step back. */
  index: number;
  /** Model calls done in the current plan, and the plan's length. */
  step: number;
  totalSteps: number;
  /** Timestep and sigma the model saw for this step (the starting noise: the first planned). */
  timestep: number;
  sigma: number;
  batch: number;
  height: number;
  width: number;
  channels: number;
  sample: ArrayBuffer;
  predictedX0: ViewBytes;
  predictedNoise: ViewBytes;
  /**
   * Latent pipelines: the latent x_t itself, its channels as grey quadrants at the image's size
   * (`sample` and `predictedX0` are then decoded through the VAE). Absent for pixel models.
   */
  latent?: ViewBytes;
  /** Time inside the model's forward passes, and for the whole step (with read-back), in ms. */
  modelMs: number;
  totalMs: number;
  /** tf.memory().numTensors and numBytes after the step: tests and the bench catch leaks. */
  numTensors: number;
  numBytes: number;
  cause: FrameCause;
}

export interface ModelInfo {
  id: string;
  name: string;
  classLabels: string[];
  nullClassId: number;
  imageSize: number;
  channels: number;
  parameterCount: number;
  /** What the model is conditioned on: a class id (the class menu), or a text prompt. */
  conditioning?: 'class' | 'text';
  /** Text models: the tokenizer's words, for suggestions and for showing ignored words. */
  vocabulary?: string[];
  /** Text models: the longest prompt in tokens, [BOS] and [EOS] included. */
  maxPromptTokens?: number;
  /** Latent pipelines: [height, width, channels] of the latents the run denoises. */
  latentShape?: [number, number, number];
  /** The training noise schedule (diffusers keys), for the forward-process view. */
  schedule?: {
    num_train_timesteps: number;
    beta_schedule: string;
    beta_start: number;
    beta_end: number;
  };
}

/**
 * How the chosen backend runs: threads and cross-origin isolation. `summary` is the backend
 * line's lead, e.g. "wasm, 2 threads (cross-origin isolated)".
 */
export interface BackendRuns {
  summary: string;
  crossOriginIsolated: boolean;
  /** XNNPACK threads on wasm (the calling thread included); null on other backends. */
  wasmThreads: number | null;
  /** wasm: why that many threads (or why only one); webgpu: shader-f16 and buffer limits. */
  detail: string | null;
}

export type FromWorker =
  | {
      type: 'ready';
      backend: BackendName;
      reason: string;
      failures: string[];
      adapter: AdapterReport;
      tfjsVersion: string;
      /** How it runs, for the backend line (BackendRuns above). */
      runs: BackendRuns;
      /** A small computation on the chosen backend, proving it runs: sum of 1..n. */
      selfCheck: { expected: number; got: number };
    }
  | { type: 'modelProgress'; id: string; loadedBytes: number; totalBytes: number | null }
  | { type: 'modelLoaded'; model: ModelInfo }
  /** The model's noisy classifier (for classifier guidance) loaded, or why it did not. */
  | { type: 'classifierStatus'; modelId: string; available: boolean; problem: string | null }
  /** The model could not be loaded; `kept` is the id of the model still in use, if any. */
  | { type: 'modelError'; id: string; file: string; problem: string; kept: string | null }
  | { type: 'runPlan'; requestId: number; plan: SchedulePlan }
  /** The plan of the current run changed (start or a re-planning update). */
  | { type: 'runPlanChanged'; runId: number; plan: SchedulePlan }
  | { type: 'runState'; runId: number; state: RunState; canStepBack: boolean }
  | ({ type: 'frame' } & FrameData)
  | { type: 'error'; context: string; message: string }
  | { type: 'pong'; id: number }
  /** The answer to `evaluate`: the model output, flat NHWC, or why there is none. */
  | {
      type: 'evaluated';
      requestId: number;
      backend: string;
      output: number[] | null;
      /** The kernels the call ran, by name (sorted, once each). */
      kernels: string[];
      /** On WebGPU: limits, batch limit, precision plan and dispatch traces (gpuPath.ts). */
      gpu?: GpuPathReport | null;
      /** On wasm in 'hybrid' or 'split' mode: helper workers ready, how the call was cut. */
      split?: SplitReport | null;
      problem: string | null;
    }
  /** ELBO progress: (image, t) pairs evaluated so far, of all the request takes. */
  | { type: 'elboProgress'; requestId: number; pairsDone: number; pairsTotal: number }
  | { type: 'elboResult'; requestId: number; report: ElboReport }
  /** The ELBO could not be computed (or was cancelled: `cancelled` true). */
  | { type: 'elboError'; requestId: number; message: string; cancelled: boolean }
  /** The WebGPU device went away (`reason` as GPUDeviceLostInfo says); recovery has begun. */
  | { type: 'deviceLost'; reason: string; detail: string }
  /**
   * The engine runs again after a lost device: on `backend` (WebGPU re-initialised, or the next
   * in the fallback chain), the model rebuilt; the run continues from `run.step`, or from its
   * start when nothing of it was left (`run.restarted`); `run` is null when there was none.
   */
  | {
      type: 'deviceRecovered';
      lost: string;
      backend: BackendName;
      reason: string;
      failures: string[];
      runs: BackendRuns;
      run: { step: number; restarted: boolean } | null;
    };
