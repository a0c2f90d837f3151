// The toy training worker's state: one trainer at a time, trained in slices of a few tens of
// milliseconds so Pause, Sample and Export are answered between slices. No DOM: the worker file
// wires it to postMessage, and the unit tests drive it directly in Node.
import * as tf from '@tensorflow/tfjs-core';
import {
  applyNormalization,
  fitNormalization,
  splitHeldOut,
  undoNormalization,
  type Normalization,
  type Points,
} from '../engine/train/datasets';
import { distances, x0ClipRange } from '../engine/train/evaluate';
import {
  configProblems,
  samplerProblem,
  type ToyModelConfig,
  type ToyTrainConfig,
} from '../engine/train/toyConfig';
import { parameterCount } from '../engine/train/toyDenoiser';
import { parseToyModel, serializeToyModel } from '../engine/train/toyModelFile';
import { sampleParticles } from '../engine/train/toySampler';
import { ToyTrainer, TrainingDiverged } from '../engine/train/toyTrainer';
import type { FromToyWorker, LossPoint, SampleRequest, TrainingState } from './toyProtocol';

/** Fewer points than this cannot describe a shape (and leave none to hold out). */
export const MIN_POINTS = 8;
/** More than this are thinned: the model sees batches anyway, and the page stays responsive. */
export const MAX_POINTS = 20000;
const SLICE_MS = 40;
const HELD_OUT_FRACTION = 0.2;
/** The score-field grid covers the model's space to this many standard deviations. */
const FIELD_EXTENT = 3;

type Post = (message: FromToyWorker, transfer?: Transferable[]) => void;
type Defer = (fn: () => void) => void;

interface Trained {
  trainer: ToyTrainer;
  normalization: Normalization;
  clipX0: number;
  points: Points;
  heldOut: Points;
}

/** Keeps every k-th point so at most `max` remain (deterministic, keeps the drawing's shape). */
export function thinPoints(points: Points, max: number): Points {
  const n = points.length / 2;
  if (n <= max) return points;
  const out = new Float32Array(2 * max);
  for (let i = 0; i < max; i++) {
    const src = Math.floor((i * n) / max);
    out[2 * i] = points[2 * src];
    out[2 * i + 1] = points[2 * src + 1];
  }
  return out;
}

export class ToySession {
  private current: Trained | null = null;
  private state: TrainingState = 'paused';
  private maxSteps = 0;
  private pendingLosses: LossPoint[] = [];
  /** Bumped by every command that stops or replaces the loop, so a stale slice ends itself. */
  private generation = 0;

  constructor(
    private readonly post: Post,
    private readonly defer: Defer,
  ) {}

  train(points: Points, model: ToyModelConfig, train: ToyTrainConfig, maxSteps: number): void {
    const problems = configProblems(model, train);
    if (problems.length > 0) throw new Error(problems.join('; '));
    const finite = points.every(Number.isFinite);
    if (!finite) throw new Error('the data holds NaN or infinite coordinates');
    const count = points.length / 2;
    if (count < MIN_POINTS) {
      throw new Error(
        count === 0
          ? 'There is no data: draw a shape (or pick a preset) before training.'
          : `Only ${count} point${count === 1 ? '' : 's'}: draw at least ${MIN_POINTS} to make a shape.`,
      );
    }
    this.reset();
    const kept = thinPoints(points, MAX_POINTS);
    const normalization = fitNormalization(kept);
    const { train: trainPoints, heldOut } = splitHeldOut(
      applyNormalization(kept, normalization),
      HELD_OUT_FRACTION,
      train.seed,
    );
    this.current = {
      trainer: new ToyTrainer(model, train, trainPoints),
      normalization,
      clipX0: x0ClipRange(trainPoints),
      points: kept,
      heldOut,
    };
    if (kept !== points) {
      this.post({
        type: 'error',
        message: `Kept ${MAX_POINTS} of ${count} points (evenly thinned) to keep training fast.`,
      });
    }
    this.start(maxSteps);
  }

  resume(maxSteps: number): void {
    if (!this.current) throw new Error('There is no model to resume: press Train first.');
    if (this.state === 'diverged')
      throw new Error('This run diverged: lower the learning rate and press Train.');
    this.start(maxSteps);
  }

  pause(): void {
    if (this.state !== 'training') return;
    this.generation++;
    this.stop('paused', null);
  }

  reset(): void {
    this.generation++;
    this.current?.trainer.dispose();
    this.current = null;
    this.state = 'paused';
    this.pendingLosses = [];
  }

  private start(maxSteps: number): void {
    const current = this.current;
    if (!current) return;
    this.maxSteps = maxSteps;
    if (current.trainer.step >= maxSteps) {
      this.stop(
        'done',
        `Already trained ${current.trainer.step} steps; raise Training steps to continue.`,
      );
      return;
    }
    this.state = 'training';
    const generation = ++this.generation;
    this.defer(() => this.slice(generation));
  }

  private slice(generation: number): void {
    const current = this.current;
    if (generation !== this.generation || !current || this.state !== 'training') return;
    const { trainer } = current;
    const started = performance.now();
    const firstStep = trainer.step;
    try {
      while (performance.now() - started < SLICE_MS && trainer.step < this.maxSteps) {
        const report = trainer.trainStep();
        this.pendingLosses.push({ step: report.step, loss: report.loss, ema: report.lossEma });
      }
    } catch (err) {
      if (!(err instanceof TrainingDiverged)) throw err;
      this.flushProgress(0);
      this.generation++;
      this.stop('diverged', `Training stopped: ${err.message}`);
      return;
    }
    const seconds = (performance.now() - started) / 1000;
    this.flushProgress((trainer.step - firstStep) / Math.max(seconds, 1e-6));
    if (trainer.step >= this.maxSteps) {
      this.generation++;
      this.stop('done', null);
      return;
    }
    this.defer(() => this.slice(generation));
  }

  private flushProgress(stepsPerSecond: number): void {
    const current = this.current;
    if (!current) return;
    const { trainer } = current;
    this.post({
      type: 'progress',
      state: this.state,
      step: trainer.step,
      losses: this.pendingLosses,
      bucketEma: Array.from(trainer.bucketEma),
      stepsPerSecond,
      parameters: parameterCount(trainer.modelConfig),
      trainPoints: current.points.length / 2 - current.heldOut.length / 2,
      heldOutPoints: current.heldOut.length / 2,
    });
    this.pendingLosses = [];
  }

  private stop(state: TrainingState, message: string | null): void {
    this.state = state;
    this.post({ type: 'stopped', state, step: this.current?.trainer.step ?? 0, message });
  }

  /** Runs the reverse process (between training slices) and sends every frame in data space. */
  sample(request: SampleRequest): void {
    const current = this.current;
    if (!current) throw new Error('There is no model yet: press Train first (or Load model).');
    const problem = samplerProblem(request.sampler, request.steps, current.trainer.modelConfig);
    if (problem) throw new Error(problem);
    const started = performance.now();
    const trajectory = sampleParticles(current.trainer.averaged, current.trainer.tables, {
      sampler: request.sampler,
      steps: request.steps,
      count: request.count,
      seed: request.seed,
      fieldSize: request.fieldSize,
      fieldExtent: FIELD_EXTENT,
      clipX0: current.clipX0,
    });
    const { distance, baselineDistance } = distances(trajectory, current.heldOut);
    const norm = current.normalization;
    const frames = trajectory.frames.map((f) => undoNormalization(f, norm));
    const fieldPoints = trajectory.fields[0]
      ? undoNormalization(trajectory.fields[0].points, norm)
      : null;
    // Score vectors are directions in the model's space; the isotropic scale keeps their direction.
    const fieldScores = trajectory.fields.map((f) => f.score);
    const seconds = (performance.now() - started) / 1000;
    this.post(
      {
        type: 'samples',
        frames,
        timesteps: trajectory.timesteps,
        fieldPoints,
        fieldScores,
        distance,
        baselineDistance,
        sampler: request.sampler,
        seconds,
      },
      [
        ...frames.map((f) => f.buffer as ArrayBuffer),
        ...fieldScores.map((f) => f.buffer as ArrayBuffer),
      ],
    );
  }

  exportModel(): void {
    const current = this.current;
    if (!current) throw new Error('There is no model to export: train one first.');
    const { trainer } = current;
    const json = serializeToyModel({
      model: trainer.modelConfig,
      train: trainer.trainConfig,
      step: trainer.step,
      normalization: current.normalization,
      clipX0: current.clipX0,
      points: current.points,
      weights: trainer.model.readWeights(),
      averagedWeights: trainer.averaged.readWeights(),
    });
    this.post({ type: 'exported', json });
  }

  load(json: string): void {
    const file = parseToyModel(json);
    this.reset();
    const { train: trainPoints, heldOut } = splitHeldOut(
      applyNormalization(file.points, file.normalization),
      HELD_OUT_FRACTION,
      file.train.seed,
    );
    const trainer = new ToyTrainer(
      file.model,
      file.train,
      trainPoints,
      file.weights,
      file.averagedWeights,
    );
    trainer.step = file.step;
    this.current = {
      trainer,
      normalization: file.normalization,
      clipX0: file.clipX0,
      points: file.points,
      heldOut,
    };
    this.state = 'paused';
    this.post({
      type: 'loaded',
      model: file.model,
      train: file.train,
      step: file.step,
      points: file.points.slice(),
    });
  }

  /** Tensors alive on the backend (the unit tests check that a session cleans up). */
  static liveTensors(): number {
    return tf.memory().numTensors;
  }
}
