// Recovering a run after its backend lost every tensor (what a lost WebGPU device does), on the
// CPU backend and the exact Gaussian denoiser: the backend is really dropped and started again,
// and the run must continue from its last completed step, not from 0, and end where an
// uninterrupted run ends.
import { beforeEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { resetBackend } from '../../src/engine/backend';
import type { DenoiseModel } from '../../src/engine/denoiser';
import type { RunModel } from '../../src/engine/run/diffusionRun';
import type { RunSettings } from '../../src/engine/run/settings';
import type { FrameData, FromWorker } from '../../src/worker/protocol';
import { RunController } from '../../src/worker/runController';
import { GaussianDenoiser, SCHEDULE, gaussianRunModel } from './gaussianDenoiser';
import { runSettings } from './runSettingsFixture';

const model = (denoiser?: DenoiseModel): RunModel => gaussianRunModel(SCHEDULE, denoiser);

const settings = (patch: Partial<RunSettings> = {}): RunSettings =>
  runSettings(
    { sampler: 'Euler', steps: 8, guidanceScale: 2, classes: [3, 5], seeds: [11, 12] },
    patch,
  );

function harness(denoiser?: DenoiseModel) {
  const posted: FromWorker[] = [];
  const controller = new RunController(
    (message) => posted.push(message),
    (fn) => setTimeout(fn, 0),
    () => 0,
    0,
  );
  const frames = () =>
    posted.filter((m) => m.type === 'frame') as (FrameData & { type: 'frame' })[];
  const states = () =>
    posted.filter((m) => m.type === 'runState').map((m) => (m as { state: string }).state);
  const until = async (state: string) => {
    for (let i = 0; i < 10_000 && states().at(-1) !== state; i++) {
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    expect(states().at(-1)).toBe(state);
  };
  return { posted, controller, frames, states, until, model: model(denoiser) };
}

/** What the worker does after a loss: the backend's instance and all its tensors are dropped. */
async function freshCpuBackend(): Promise<void> {
  resetBackend('cpu');
  await tf.setBackend('cpu');
}

const pixels = (frame: FrameData) => Array.from(new Uint8Array(frame.sample));

beforeEach(async () => {
  await tf.setBackend('cpu');
});

describe('a run after its backend lost its tensors', () => {
  it('continues from the paused step and ends on the same image as an uninterrupted run', async () => {
    const plain = harness();
    await plain.controller.setModel(plain.model);
    await plain.controller.start(1, settings(), true);
    await plain.until('done');
    const expected = plain.frames().at(-1)!;
    expect(expected.step).toBe(8);
    await plain.controller.cancel();

    const h = harness();
    await h.controller.setModel(h.model);
    await h.controller.start(1, settings(), false);
    for (let i = 0; i < 3; i++) await h.controller.step();
    expect(h.frames().at(-1)!.step).toBe(3);

    let replaced = false;
    const result = await h.controller.recoverRun(async () => {
      await freshCpuBackend();
      expect(tf.memory().numTensors).toBe(0); // nothing of the run survived on the backend
      replaced = true;
    });
    expect(replaced).toBe(true);
    expect(result).toEqual({ step: 3, restarted: false });
    expect(h.states().at(-1)).toBe('paused'); // it was paused: it stays paused

    const seen = h.frames().length;
    await h.controller.resume();
    await h.until('done');
    const after = h.frames().slice(seen);
    expect(after.map((f) => f.step)).toEqual([4, 5, 6, 7, 8]);
    expect(after.map((f) => f.index)).toEqual([4, 5, 6, 7, 8]);
    // Euler keeps no history: the restored run is the uninterrupted one, pixel for pixel.
    expect(pixels(after.at(-1)!)).toEqual(pixels(expected));
    await h.controller.cancel();
    expect(tf.memory().numTensors).toBe(0);
  });

  it('keeps a running run whose step failed from the loss, and lets it go on by itself', async () => {
    const inner = new GaussianDenoiser();
    let calls = 0;
    let lost = false;
    // The 5th model call fails as tfjs does once the device is gone.
    const flaky: DenoiseModel = {
      predictionType: inner.predictionType,
      nullClass: inner.nullClass,
      imageShape: inner.imageShape,
      predict: (x, t, c) => {
        if (++calls === 5 && !lost) {
          lost = true;
          throw new Error("Failed to execute 'mapAsync' on 'GPUBuffer': Device is lost");
        }
        return inner.predict(x, t, c);
      },
    };
    const h = harness(flaky);
    h.controller.keepRunAfter = (err) => /Device is lost/.test((err as Error).message);
    await h.controller.setModel(h.model);
    await h.controller.start(1, settings(), true);
    await h.until('paused');
    expect(h.posted.filter((m) => m.type === 'error')).toEqual([]);
    const last = h.frames().at(-1)!;
    expect(last.step).toBe(4);

    const result = await h.controller.recoverRun(freshCpuBackend);
    expect(result).toEqual({ step: 4, restarted: false });
    await h.until('done');
    const frames = h.frames();
    const restored = frames.findIndex((f) => f.cause === 'back');
    expect(frames.slice(restored).map((f) => [f.step, f.cause])).toEqual([
      [4, 'back'],
      [5, 'run'],
      [6, 'run'],
      [7, 'run'],
      [8, 'final'],
    ]);

    const plain = harness();
    await plain.controller.setModel(plain.model);
    await plain.controller.start(1, settings(), true);
    await plain.until('done');
    expect(pixels(h.frames().at(-1)!)).toEqual(pixels(plain.frames().at(-1)!));
  });

  it('starts again from step 0 with the same seeds when nothing of the run is on the CPU', async () => {
    const h = harness();
    await h.controller.setModel(h.model);
    await h.controller.start(1, settings(), false);
    const start = h.frames()[0];
    const result = await h.controller.recoverRun(freshCpuBackend);
    expect(result).toEqual({ step: 0, restarted: true });
    const again = h.frames().at(-1)!;
    expect([again.index, again.step, again.cause]).toEqual([0, 0, 'start']);
    expect(pixels(again)).toEqual(pixels(start));
    await h.controller.step();
    expect(h.frames().at(-1)!.step).toBe(1);
    await h.controller.cancel();
  });

  it('ends the run with the error when no backend can start again', async () => {
    const h = harness();
    await h.controller.setModel(h.model);
    await h.controller.start(1, settings(), false);
    await h.controller.step();
    await expect(
      h.controller.recoverRun(async () => {
        throw new Error('no tfjs backend could start');
      }),
    ).rejects.toThrow('no tfjs backend could start');
    expect(h.states().at(-1)).toBe('idle');
    // The backend itself still works: a new run starts.
    await h.controller.start(2, settings(), false);
    await h.controller.step();
    expect(h.frames().at(-1)!.step).toBe(1);
  });

  it('without a run, only replaces the backend', async () => {
    const h = harness();
    await h.controller.setModel(h.model);
    let called = 0;
    expect(await h.controller.recoverRun(async () => void called++)).toBeNull();
    expect(called).toBe(1);
  });
});
