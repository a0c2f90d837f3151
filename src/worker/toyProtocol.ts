// Messages between the Train view and the toy training worker (src/worker/toy.worker.ts).
// Points travel as interleaved x, y Float32Arrays in the drawing's own coordinates ("data space");
// the worker normalises them for the model and maps samples back.
import type { BackendName } from '../engine/backendNames';
import type { ToyModelConfig, ToyTrainConfig } from '../engine/train/toyConfig';

export interface SampleRequest {
  sampler: string;
  steps: number;
  count: number;
  seed: number;
  fieldSize: number;
}

export type ToToyWorker =
  | { type: 'init'; backend: BackendName | null }
  | {
      type: 'train';
      points: Float32Array;
      model: ToyModelConfig;
      train: ToyTrainConfig;
      maxSteps: number;
    }
  | { type: 'pause' }
  | { type: 'resume'; maxSteps: number }
  | { type: 'reset' }
  | ({ type: 'sample' } & SampleRequest)
  | { type: 'export' }
  | { type: 'load'; json: string };

export interface LossPoint {
  step: number;
  loss: number;
  ema: number;
}

export type TrainingState = 'training' | 'paused' | 'done' | 'diverged';

export interface ToySamples {
  /** Particle positions per frame, data space. */
  frames: Float32Array[];
  timesteps: number[];
  /** Per step: grid points and score vectors (both data space; arrows point along the score). */
  fieldPoints: Float32Array | null;
  fieldScores: Float32Array[];
  distance: number;
  baselineDistance: number;
  sampler: string;
  seconds: number;
}

export type FromToyWorker =
  | { type: 'ready'; backend: BackendName; reason: string }
  | {
      type: 'progress';
      state: TrainingState;
      step: number;
      losses: LossPoint[];
      bucketEma: number[];
      stepsPerSecond: number;
      parameters: number;
      /** Points actually used: training and held-out counts. */
      trainPoints: number;
      heldOutPoints: number;
    }
  | { type: 'stopped'; state: TrainingState; step: number; message: string | null }
  | ({ type: 'samples' } & ToySamples)
  | { type: 'exported'; json: string }
  | {
      type: 'loaded';
      model: ToyModelConfig;
      train: ToyTrainConfig;
      step: number;
      points: Float32Array;
    }
  | { type: 'error'; message: string };
