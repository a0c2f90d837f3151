// Messages between the page and the super-resolution worker (upscale.worker.ts): a worker of its
// own, so the SR stage stays loaded beside whatever model the main engine runs (a cascade is runs
// in a row: the second run's conditioning is the first run's output). Frames, run states and plans
// are the main worker's own messages (protocol.ts), so the page draws them with the same views.
import type { BackendName } from '../engine/backend';
import type { RunSettings } from '../engine/run/settings';
import type { FromWorker } from './protocol';

export interface UpscaleModelInfo {
  id: string;
  name: string;
  /** [h, w, c] of the low-res input the model was trained on, and of its output. */
  lowResShape: [number, number, number];
  imageShape: [number, number, number];
  maxNoiseLevel: number;
  defaultNoiseLevel: number;
  parameterCount: number;
  trainingSteps: number | null;
  /** Held-out PSNR / SSIM / consistency from the card, for the panel's caption. */
  quality: { psnr: number | null; bicubicPsnr: number | null; consistency: number | null };
}

export type ToUpscaleWorker =
  | { type: 'init'; backend: BackendName | null; modelUrl: string }
  /**
   * An upscale run: `lowRes` NHWC [seeds.length, h, w, 3] in [-1, 1]; settings.seeds sets the
   * batch (one seed per image); guidance is ignored (the SR stage has no unconditional half).
   */
  | {
      type: 'start';
      runId: number;
      lowRes: Float32Array;
      shape: [number, number, number];
      noiseLevel: number;
      settings: RunSettings;
      autoplay: boolean;
    }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'step' }
  | { type: 'stepBack' }
  | { type: 'cancel' };

export type FromUpscaleWorker =
  | Extract<FromWorker, { type: 'frame' | 'runState' | 'runPlanChanged' | 'modelProgress' }>
  | { type: 'ready'; backend: BackendName; model: UpscaleModelInfo }
  /** The augmented low-res images the run is conditioned on (NHWC floats), for the "input" view. */
  | {
      type: 'conditioning';
      runId: number;
      lowRes: Float32Array;
      shape: [number, number, number];
      noiseLevel: number;
    }
  | { type: 'error'; context: string; message: string };
