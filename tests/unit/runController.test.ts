// The worker's run controller on the exact Gaussian denoiser: commands, frame posting and
// throttling, step back, live re-planning, and no leaked tensors.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { DiffusionRun, type RunModel } from '../../src/engine/run/diffusionRun';
import type { RunSettings } from '../../src/engine/run/settings';
import { imageToBytes, noiseToBytes } from '../../src/worker/frameBytes';
import type { FrameData, FromWorker } from '../../src/worker/protocol';
import { RunController } from '../../src/worker/runController';
import { gaussianRunModel } from './gaussianDenoiser';
import { runSettings } from './runSettingsFixture';

const model = (): RunModel => gaussianRunModel();

const settings = (patch: Partial<RunSettings> = {}): RunSettings =>
  runSettings(
    { sampler: 'DPM++ 2M', steps: 10, guidanceScale: 2, classes: [3, 3], seeds: [1, 2] },
    patch,
  );

/** A controller whose posts are recorded; `tick` ms pass on every clock read. */
function harness(tick = 100) {
  const posted: FromWorker[] = [];
  let clock = 0;
  const controller = new RunController(
    (message) => posted.push(message),
    (fn) => setTimeout(fn, 0),
    () => (clock += tick),
  );
  const frames = () =>
    posted.filter((m): m is FromWorker & { type: 'frame' } => m.type === 'frame') as (FrameData & {
      type: 'frame';
    })[];
  const states = () =>
    posted.filter((m) => m.type === 'runState').map((m) => (m as { state: string }).state);
  /** Waits until the run has posted `state` (the loop runs in macrotasks). */
  const until = async (state: string) => {
    for (let i = 0; i < 10_000 && states().at(-1) !== state; i++) {
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    expect(states().at(-1)).toBe(state);
  };
  return { posted, controller, frames, states, until };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('RunController', () => {
  it('posts the starting noise, then exactly one frame per Step and per Step back', async () => {
    const { controller, frames, states } = harness();
    await controller.setModel(model());
    await controller.start(1, settings(), false);
    expect(states().at(-1)).toBe('paused');
    expect(frames()).toHaveLength(1);
    const start = frames()[0];
    expect([start.index, start.step, start.totalSteps]).toEqual([0, 0, 10]);
    expect(start.predictedX0).toBeNull();
    expect(start.sample.byteLength).toBe(2 * 8 * 8);

    await controller.step();
    await controller.step();
    expect(frames().map((f) => [f.index, f.step, f.cause])).toEqual([
      [0, 0, 'start'],
      [1, 1, 'step'],
      [2, 2, 'step'],
    ]);
    const second = frames()[1];
    await controller.stepBack();
    const back = frames().at(-1)!;
    expect([back.index, back.step, back.cause]).toEqual([1, 1, 'back']);
    expect(new Uint8Array(back.sample)).toEqual(new Uint8Array(second.sample));
    await controller.stepBack();
    expect(new Uint8Array(frames().at(-1)!.sample)).toEqual(new Uint8Array(start.sample));
    // Nothing before the start: no frame, still paused.
    const count = frames().length;
    await controller.stepBack();
    expect(frames()).toHaveLength(count);
    expect(states().at(-1)).toBe('paused');
  });

  it('runs to the end, always posting the final frame, and repeats itself for the same seeds', async () => {
    const finals: Uint8Array[] = [];
    for (let i = 0; i < 2; i++) {
      const { controller, frames, until } = harness();
      await controller.setModel(model());
      await controller.start(1, settings(), true);
      await until('done');
      const last = frames().at(-1)!;
      expect([last.step, last.totalSteps, last.cause]).toEqual([10, 10, 'final']);
      // With 100 ms between clock reads nothing is throttled: every step was posted.
      expect(frames().map((f) => f.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      finals.push(new Uint8Array(last.sample));
    }
    expect(finals[0]).toEqual(finals[1]);
  });

  it('throttles frames to one per 16 ms while running but never drops the final one', async () => {
    const { controller, frames, until } = harness(1);
    await controller.setModel(model());
    await controller.start(1, settings({ steps: 30 }), true);
    await until('done');
    const indices = frames().map((f) => f.index);
    expect(indices.length).toBeLessThan(31);
    expect(indices.length).toBeGreaterThan(1);
    expect(indices.at(-1)).toBe(30);
    expect(frames().at(-1)!.cause).toBe('final');
  });

  it('re-plans a paused run from the same noise level and finishes it', async () => {
    const { controller, frames, posted, until } = harness();
    await controller.setModel(model());
    await controller.start(1, settings({ steps: 20 }), false);
    for (let i = 0; i < 8; i++) await controller.step();
    await controller.update({ sampler: 'Euler', guidanceScale: 3 });
    const renumbered = frames().at(-1)!;
    expect(renumbered.cause).toBe('update');
    expect(renumbered.index).toBe(8);
    // Euler on 20 steps continues within one step of where DPM++ 2M was.
    expect(Math.abs(renumbered.step - 8)).toBeLessThanOrEqual(1);
    const plans = posted.filter((m) => m.type === 'runPlanChanged');
    expect(plans.at(-1)).toMatchObject({ plan: { schedulerClass: 'EulerDiscreteScheduler' } });
    await controller.resume();
    await until('done');
    const last = frames().at(-1)!;
    expect(last.step).toBe(last.totalSteps);
    expect(last.index).toBe(8 + last.totalSteps - renumbered.step);
  });

  it('leaves no tensors behind after a cancelled run', async () => {
    const { controller } = harness();
    await controller.setModel(model());
    const before = tf.memory().numTensors;
    await controller.start(1, settings(), false);
    for (let i = 0; i < 3; i++) await controller.step();
    await controller.stepBack();
    await controller.cancel();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('DiffusionRun.stepAsync', () => {
  it('gives exactly what step gives', async () => {
    const sync = new DiffusionRun(model(), settings({ sampler: 'Euler a' }));
    const async = new DiffusionRun(model(), settings({ sampler: 'Euler a' }));
    while (!sync.done) {
      const a = sync.step();
      const b = await async.stepAsync();
      expect(b).toEqual(a);
    }
    sync.dispose();
    async.dispose();
  });
});

describe('frame bytes', () => {
  it('maps [-1, 1] to 0..255 and noise with eps / 4 + 0.5, clipped', () => {
    expect(Array.from(imageToBytes(new Float32Array([-2, -1, 0, 1, 3])))).toEqual([
      0, 0, 128, 255, 255,
    ]);
    expect(Array.from(noiseToBytes(new Float32Array([-3, -2, 0, 2, 9])))).toEqual([
      0, 0, 128, 255, 255,
    ]);
  });
});
