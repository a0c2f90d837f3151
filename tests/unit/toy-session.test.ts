import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { presetPoints } from '../../src/engine/train/datasets';
import {
  DEFAULT_MODEL_CONFIG,
  DEFAULT_TRAIN_CONFIG,
  type ToyModelConfig,
} from '../../src/engine/train/toyConfig';
import { parseToyModel } from '../../src/engine/train/toyModelFile';
import type { FromToyWorker } from '../../src/worker/toyProtocol';
import { MAX_POINTS, ToySession, thinPoints } from '../../src/worker/toySession';

const SMALL: ToyModelConfig = {
  ...DEFAULT_MODEL_CONFIG,
  width: 32,
  depth: 1,
  numTrainTimesteps: 20,
};

/** A session whose deferred slices run when the test says, not on a timer. */
function harness() {
  const messages: FromToyWorker[] = [];
  const queue: (() => void)[] = [];
  const session = new ToySession(
    (m) => messages.push(m),
    (fn) => queue.push(fn),
  );
  const drain = (limit = 1000) => {
    for (let i = 0; i < limit && queue.length > 0; i++) queue.shift()?.();
  };
  const last = <T extends FromToyWorker['type']>(type: T) =>
    messages.filter((m) => m.type === type).pop() as
      Extract<FromToyWorker, { type: T }> | undefined;
  return { session, messages, drain, last };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('ToySession', () => {
  it('refuses no data and a single point with a message a person understands', () => {
    const { session } = harness();
    expect(() => session.train(new Float32Array(0), SMALL, DEFAULT_TRAIN_CONFIG, 10)).toThrow(
      /no data/,
    );
    expect(() =>
      session.train(new Float32Array([0.5, 0.5]), SMALL, DEFAULT_TRAIN_CONFIG, 10),
    ).toThrow(/Only 1 point/);
    expect(() =>
      session.train(new Float32Array(20).fill(Number.NaN), SMALL, DEFAULT_TRAIN_CONFIG, 10),
    ).toThrow(/NaN/);
    expect(() =>
      session.sample({ sampler: 'DDIM', steps: 5, count: 10, seed: 1, fieldSize: 0 }),
    ).toThrow(/no model/);
  });

  it('thins thousands of points evenly and says so', () => {
    const many = presetPoints('rings', MAX_POINTS + 5000, 1);
    expect(thinPoints(many, MAX_POINTS)).toHaveLength(2 * MAX_POINTS);
    const { session, last, drain } = harness();
    session.train(many, SMALL, DEFAULT_TRAIN_CONFIG, 2);
    expect(last('error')?.message).toContain(`Kept ${MAX_POINTS}`);
    drain();
    expect(last('progress')?.trainPoints).toBe(MAX_POINTS * 0.8);
    session.reset();
  });

  it('trains in slices, pauses, resumes, stops at the step limit, and leaks no tensors', () => {
    const before = tf.memory().numTensors;
    const { session, drain, last } = harness();
    session.train(
      presetPoints('moons', 400, 1),
      SMALL,
      { ...DEFAULT_TRAIN_CONFIG, batchSize: 32 },
      30,
    );
    session.pause();
    drain();
    expect(last('stopped')?.state).toBe('paused');
    const pausedAt = last('stopped')?.step ?? -1;
    session.resume(30);
    drain();
    expect(last('stopped')).toMatchObject({ state: 'done', step: 30 });
    expect(pausedAt).toBeLessThan(30);
    const progress = last('progress');
    expect(progress?.losses.every((p) => Number.isFinite(p.loss))).toBe(true);
    session.sample({ sampler: 'Euler', steps: 10, count: 50, seed: 1, fieldSize: 4 });
    const samples = last('samples');
    expect(samples?.frames).toHaveLength(11);
    expect(samples?.fieldScores).toHaveLength(10);
    expect(samples?.fieldPoints).toHaveLength(32);
    expect(Number.isFinite(samples?.distance)).toBe(true);
    session.reset();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('exports a model that loads back with the same weights, and refuses broken files', () => {
    const { session, drain, last } = harness();
    session.train(presetPoints('smiley', 300, 1), SMALL, DEFAULT_TRAIN_CONFIG, 5);
    drain();
    session.exportModel();
    const json = last('exported')?.json ?? '';
    const file = parseToyModel(json);
    expect(file.step).toBe(5);
    expect(file.model).toEqual(SMALL);

    const other = harness();
    other.session.load(json);
    expect(other.last('loaded')?.step).toBe(5);
    other.session.exportModel();
    expect(parseToyModel(other.last('exported')?.json ?? '').weights).toEqual(file.weights);

    const raw = JSON.parse(json) as Record<string, unknown>;
    expect(() => parseToyModel('not json')).toThrow(/not JSON/);
    expect(() => parseToyModel('{}')).toThrow(/not a toy model/);
    expect(() => parseToyModel(JSON.stringify({ ...raw, model: { ...SMALL, width: 33 } }))).toThrow(
      /has \d+ values, expected/,
    );
    const weights = raw.weights as { data: string }[];
    const nan = btoa(
      String.fromCharCode(...new Uint8Array(new Float32Array([Number.NaN, 1, 2]).buffer)),
    );
    expect(() =>
      parseToyModel(
        JSON.stringify({ ...raw, weights: [{ ...weights[0], data: nan }, ...weights.slice(1)] }),
      ),
    ).toThrow(/expected|NaN/);
    session.reset();
    other.session.reset();
  });
});
