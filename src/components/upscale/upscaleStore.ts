// The Upscale panel's state: the SR worker's status and model, the low-res source, the settings of
// the next upscale, and the frames of the current one (the same FrameData the main view draws).
import { create } from 'zustand';
import type { SchedulePlan } from '../../engine/schedulePlan';
import type { TimestepSpacing } from '../../engine/schedulers/types';
import type { FrameData } from '../../worker/protocol';
import type { UpscaleModelInfo } from '../../worker/upscaleProtocol';

export type UpscaleStatus = 'off' | 'loading' | 'ready' | 'running' | 'paused' | 'done' | 'error';

export interface LowResSource {
  /** Where it came from, for the caption ("Last sample", "Example: grinning face", "Upload: x.png"). */
  label: string;
  /** NHWC [batch, h, w, 3], values in [-1, 1]. */
  pixels: Float32Array;
  batch: number;
  shape: [number, number, number];
}

export interface UpscaleSettings {
  sampler: string;
  steps: number;
  seed: number;
  /** Noise-augmentation level of the low-res input (an integer training timestep; 0 = none). */
  noiseLevel: number;
  /** Timestep spacing; null = the model's own (trailing: the first step at t = 999). */
  spacing: TimestepSpacing | null;
}

export const DEFAULT_UPSCALE_SETTINGS: UpscaleSettings = {
  sampler: 'DDIM',
  steps: 20,
  seed: 0,
  noiseLevel: 0,
  spacing: null,
};

interface UpscaleState {
  status: UpscaleStatus;
  backend: string | null;
  model: UpscaleModelInfo | null;
  error: string | null;
  source: LowResSource | null;
  /** The source of the current run (the chosen source may change after Upscale). */
  runSource: LowResSource | null;
  settings: UpscaleSettings;
  /** Cascade: when a main run finishes, upscale its image right away (both stages in one go). */
  cascade: boolean;
  runId: number;
  canStepBack: boolean;
  /** The low-res images as the model reads them (after augmentation), NHWC floats. */
  conditioning: {
    runId: number;
    pixels: Float32Array;
    shape: [number, number, number];
    noiseLevel: number;
  } | null;
  frames: FrameData[];
  currentFrame: number;
  plan: SchedulePlan | null;
  set(patch: Partial<Omit<UpscaleState, 'set'>>): void;
  setSettings(patch: Partial<UpscaleSettings>): void;
  receiveFrame(frame: FrameData): void;
  showFrame(index: number): void;
}

export const useUpscaleStore = create<UpscaleState>((set) => ({
  status: 'off',
  backend: null,
  model: null,
  error: null,
  source: null,
  runSource: null,
  settings: DEFAULT_UPSCALE_SETTINGS,
  cascade: false,
  runId: 0,
  canStepBack: false,
  conditioning: null,
  frames: [],
  currentFrame: 0,
  plan: null,
  set: (patch) => set(patch),
  setSettings: (patch) => set((s) => ({ settings: { ...s.settings, ...patch } })),
  // As the main store: a frame at path position i replaces every frame at i or later; the view
  // follows the newest frame unless the user scrubbed back.
  receiveFrame: (frame) =>
    set((s) => {
      if (frame.runId !== s.runId) return {};
      let cut = s.frames.length;
      while (cut > 0 && s.frames[cut - 1].index >= frame.index) cut--;
      const frames = [...s.frames.slice(0, cut), frame];
      const following = s.currentFrame >= s.frames.length - 1 || frame.cause !== 'run';
      return {
        frames,
        currentFrame: following ? frames.length - 1 : Math.min(s.currentFrame, frames.length - 1),
      };
    }),
  showFrame: (index) =>
    set((s) => ({ currentFrame: Math.max(0, Math.min(s.frames.length - 1, Math.round(index))) })),
}));
