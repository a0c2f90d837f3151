import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { presetPoints, splitHeldOut } from '../../src/engine/train/datasets';
import { distances, x0ClipRange } from '../../src/engine/train/evaluate';
import { toyTables } from '../../src/engine/train/noiseTables';
import {
  DEFAULT_MODEL_CONFIG,
  DEFAULT_TRAIN_CONFIG,
  type ToyModelConfig,
} from '../../src/engine/train/toyConfig';
import { sampleParticles } from '../../src/engine/train/toySampler';
import { Xoshiro128 } from '../../src/engine/gaussian';
import {
  EXPLODED_LOSS,
  ToyTrainer,
  TrainingDiverged,
  noisedBatch,
} from '../../src/engine/train/toyTrainer';

// A small network keeps these runs to seconds on the plain-JS CPU backend.
const SMALL: ToyModelConfig = {
  ...DEFAULT_MODEL_CONFIG,
  width: 64,
  depth: 2,
  numTrainTimesteps: 50,
};

// wasm, as in the app on machines without a GPU: about 10x the plain-JS cpu backend here.
beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
  await tf.ready();
});

describe('noisedBatch', () => {
  it('forms x_t from x_0 and eps with the schedule, and each target from the same draw', () => {
    const data = new Float32Array([1.5, -0.5]);
    const tables = toyTables(SMALL);
    for (const prediction of ['epsilon', 'v_prediction', 'sample'] as const) {
      const batch = noisedBatch(data, tables, { ...SMALL, prediction }, 64, new Xoshiro128(3));
      for (let b = 0; b < 64; b++) {
        const ab = tables.alphasCumprod[batch.timesteps[b]];
        const [a, s] = [Math.sqrt(ab), Math.sqrt(1 - ab)];
        for (let d = 0; d < 2; d++) {
          const xt = batch.xt[2 * b + d];
          const eps = (xt - a * data[d]) / s;
          const expected =
            prediction === 'epsilon'
              ? eps
              : prediction === 'sample'
                ? data[d]
                : a * eps - s * data[d];
          expect(batch.target[2 * b + d]).toBeCloseTo(expected, 3);
        }
      }
    }
  });
});

describe('ToyTrainer', () => {
  it('lowers the loss and then samples closer to held-out data than noise is', () => {
    const all = presetPoints('moons', 4000, 1);
    const { train, heldOut } = splitHeldOut(all, 0.25, 1);
    const trainer = new ToyTrainer(
      DEFAULT_MODEL_CONFIG,
      { ...DEFAULT_TRAIN_CONFIG, learningRate: 2e-3, batchSize: 128 },
      train,
    );
    const first = trainer.trainStep().loss;
    while (trainer.step < 1000) trainer.trainStep();
    expect(trainer.lossEma).toBeLessThan(0.6 * first);
    expect(trainer.bucketEma.every(Number.isFinite)).toBe(true);
    const before = tf.memory().numTensors;
    const trajectory = sampleParticles(trainer.model, trainer.tables, {
      sampler: 'DDPM',
      steps: 50,
      count: 1000,
      seed: 2,
      fieldSize: 5,
      fieldExtent: 3,
      clipX0: x0ClipRange(train),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(trajectory.frames).toHaveLength(51);
    expect(trajectory.fields).toHaveLength(50);
    const { distance, baselineDistance } = distances(trajectory, heldOut);
    console.log(`toy unit: MMD ${distance.toFixed(3)} vs noise ${baselineDistance.toFixed(3)}`);
    expect(distance).toBeLessThan(0.6 * baselineDistance);
    trainer.dispose();
    // ~20 s on an idle 2-core machine; several minutes when other jobs hold the cores.
  }, 600_000);

  it('stops on a loss that explodes, restores earlier weights and says so', () => {
    const data = presetPoints('moons', 500, 1);
    const trainer = new ToyTrainer(
      SMALL,
      { ...DEFAULT_TRAIN_CONFIG, learningRate: 10, batchSize: 64 },
      data,
    );
    let error: unknown = null;
    try {
      while (trainer.step < 2000) trainer.trainStep();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TrainingDiverged);
    const diverged = error as TrainingDiverged;
    expect(diverged.message).toContain('Try a smaller learning rate');
    expect(diverged.restoredStep).toBeLessThan(diverged.step);
    // The kept weights give finite, bounded predictions.
    const out = tf.tidy(() =>
      trainer.model.predict(
        tf.tensor2d(data.slice(0, 20), [10, 2]),
        tf.fill([10], 5) as tf.Tensor1D,
      ),
    );
    const values = out.dataSync();
    out.dispose();
    expect(Array.from(values).every((v) => Number.isFinite(v) && v * v < EXPLODED_LOSS)).toBe(true);
    trainer.dispose();
  });
});
