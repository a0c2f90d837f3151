// The Train view's own zustand store: what the person chose (data, network, schedule, sampler)
// and what the toy worker reported (loss, buckets, samples). Nothing here touches tfjs.
import { create } from 'zustand';
import { DEFAULT_TEXT, type PresetDataset } from '../../engine/train/datasets';
import {
  DEFAULT_MODEL_CONFIG,
  DEFAULT_TRAIN_CONFIG,
  type ToyModelConfig,
  type ToyTrainConfig,
} from '../../engine/train/toyConfig';
import type { LossPoint, ToySamples, TrainingState } from '../../worker/toyProtocol';

export type DataChoice = PresetDataset | 'drawn';

/** The loss curve keeps at most this many points (older ones are thinned two to one). */
const MAX_LOSS_POINTS = 1500;

export interface TrainMessage {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

export interface TrainState {
  data: DataChoice;
  text: string;
  /** Drawn points, interleaved x, y, in data space (the canvas shows [-3, 3] on each axis). */
  drawn: number[];
  model: ToyModelConfig;
  train: ToyTrainConfig;
  maxSteps: number;
  sampler: string;
  sampleSteps: number;
  particles: number;
  forwardT: number;

  backend: string | null;
  backendReason: string;
  status: TrainingState | 'idle';
  step: number;
  stepsPerSecond: number;
  parameters: number;
  pointsUsed: { train: number; heldOut: number } | null;
  losses: LossPoint[];
  bucketEma: number[];
  samples: ToySamples | null;
  frame: number;
  playing: boolean;
  sampling: boolean;
  messages: TrainMessage[];
}

export const useTrainStore = create<TrainState>(() => ({
  data: 'moons',
  text: DEFAULT_TEXT,
  drawn: [],
  model: { ...DEFAULT_MODEL_CONFIG },
  train: { ...DEFAULT_TRAIN_CONFIG },
  maxSteps: 3000,
  sampler: 'DDPM',
  sampleSteps: 50,
  particles: 2000,
  forwardT: 0,
  backend: null,
  backendReason: '',
  status: 'idle',
  step: 0,
  stepsPerSecond: 0,
  parameters: 0,
  pointsUsed: null,
  losses: [],
  bucketEma: [],
  samples: null,
  frame: 0,
  playing: false,
  sampling: false,
  messages: [],
}));

let nextMessageId = 1;

export function say(kind: TrainMessage['kind'], text: string): void {
  useTrainStore.setState((s) => ({
    messages: [...s.messages.slice(-4), { id: nextMessageId++, kind, text }],
  }));
}

export function dismissMessage(id: number): void {
  useTrainStore.setState((s) => ({ messages: s.messages.filter((m) => m.id !== id) }));
}

/** Appends losses, halving the history's resolution whenever it grows past the cap. */
export function appendLosses(history: LossPoint[], fresh: LossPoint[]): LossPoint[] {
  let out = history.concat(fresh);
  while (out.length > MAX_LOSS_POINTS) out = out.filter((_, i) => i % 2 === 1);
  return out;
}
