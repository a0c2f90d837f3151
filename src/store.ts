// The app's state: what the user chose and what came back from the engine worker.
import { create } from 'zustand';
import type { AdapterReport } from './engine/backend';
import type { BackendName } from './engine/backendNames';
import type { SchedulePlan } from './engine/schedulePlan';
import { DEFAULT_CONTROLS, type RunControls } from './runControls';
import type { BackendRuns, FrameData, ModelInfo } from './worker/protocol';

export interface EngineStatus {
  state: 'starting' | 'ready' | 'failed';
  backend: BackendName | null;
  reason: string;
  failures: string[];
  adapter: AdapterReport | null;
  tfjsVersion: string;
  selfCheckOk: boolean;
  /** How it runs: "wasm, 2 threads (cross-origin isolated)" and the facts behind it. */
  runs: BackendRuns | null;
}

/** A model listed in public/models/index.json. */
export interface ModelListing {
  id: string;
  name: string;
  /** Folder URL of the model, absolute. */
  url: string;
}

export type RunStatus = 'idle' | 'loading' | 'running' | 'paused' | 'done' | 'error';

export interface RunSlice {
  models: ModelListing[];
  /** The model loaded in the worker (what runs use). */
  model: ModelInfo | null;
  modelProgress: { loadedBytes: number; totalBytes: number | null } | null;
  /** The loaded model's noisy classifier (classifier guidance): null while unknown. */
  classifier: { modelId: string; available: boolean; problem: string | null } | null;
  controls: RunControls;
  status: RunStatus;
  /** Id of the newest run; frames of older runs are dropped. */
  runId: number;
  canStepBack: boolean;
  /** Frames received for the current run, ordered by their index along the run's path. */
  frames: FrameData[];
  /** Which of `frames` the views show (the timeline scrubber moves it). */
  currentFrame: number;
  /** The plan the current run follows, or would follow with the current controls. */
  runPlan: SchedulePlan | null;
}

export interface AppState extends RunSlice {
  engine: EngineStatus;
  /** Backend the user asked for (URL or menu); null = choose automatically. */
  backendChoice: BackendName | null;
  messages: string[];
  setEngine(status: Partial<EngineStatus>): void;
  setBackendChoice(choice: BackendName | null): void;
  addMessage(message: string): void;
  dismissMessage(index: number): void;

  setModels(models: ModelListing[]): void;
  setModel(model: ModelInfo | null): void;
  setModelProgress(progress: RunSlice['modelProgress']): void;
  setClassifier(classifier: RunSlice['classifier']): void;
  setControls(patch: Partial<RunControls>): void;
  setStatus(status: RunStatus, canStepBack?: boolean): void;
  /** A new run: forget the old frames. */
  beginRun(runId: number): void;
  receiveFrame(frame: FrameData): void;
  showFrame(index: number): void;
  setRunPlan(plan: SchedulePlan | null): void;
}

/**
 * A frame at path position i replaces every frame at i or later (after Step back the path forks;
 * after a re-plan the current image is renumbered). The view follows the newest frame unless
 * the user has scrubbed back to an earlier one.
 */
function withFrame(s: RunSlice, frame: FrameData): Partial<RunSlice> {
  let cut = s.frames.length;
  while (cut > 0 && s.frames[cut - 1].index >= frame.index) cut--;
  const frames = [...s.frames.slice(0, cut), frame];
  const following = s.currentFrame >= s.frames.length - 1 || frame.cause !== 'run';
  return {
    frames,
    currentFrame: following ? frames.length - 1 : Math.min(s.currentFrame, frames.length - 1),
  };
}

export const useAppStore = create<AppState>((set) => ({
  engine: {
    state: 'starting',
    backend: null,
    reason: '',
    failures: [],
    adapter: null,
    tfjsVersion: '',
    selfCheckOk: false,
    runs: null,
  },
  backendChoice: null,
  messages: [],
  models: [],
  model: null,
  modelProgress: null,
  classifier: null,
  controls: DEFAULT_CONTROLS,
  status: 'idle',
  runId: 0,
  canStepBack: false,
  frames: [],
  currentFrame: 0,
  runPlan: null,
  setEngine: (status) => set((s) => ({ engine: { ...s.engine, ...status } })),
  setBackendChoice: (backendChoice) => set({ backendChoice }),
  addMessage: (message) => set((s) => ({ messages: [...s.messages, message] })),
  dismissMessage: (index) => set((s) => ({ messages: s.messages.filter((_, i) => i !== index) })),

  setModels: (models) => set({ models }),
  setModel: (model) => set({ model }),
  setModelProgress: (modelProgress) => set({ modelProgress }),
  setClassifier: (classifier) => set({ classifier }),
  setControls: (patch) => set((s) => ({ controls: { ...s.controls, ...patch } })),
  setStatus: (status, canStepBack) =>
    set((s) => ({ status, canStepBack: canStepBack ?? s.canStepBack })),
  beginRun: (runId) => set({ runId, frames: [], currentFrame: 0, canStepBack: false }),
  receiveFrame: (frame) => set((s) => (frame.runId === s.runId ? withFrame(s, frame) : {})),
  showFrame: (index) =>
    set((s) => ({ currentFrame: Math.max(0, Math.min(s.frames.length - 1, Math.round(index))) })),
  setRunPlan: (runPlan) => set({ runPlan }),
}));
