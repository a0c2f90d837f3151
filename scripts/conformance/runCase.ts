// Runs one diffusers conformance case (tests/conformance/FORMAT.md) through our schedulers.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import type { Tensor } from '@tensorflow/tfjs-core';
import { createScheduler } from '../../src/engine/schedulers';
import type { Scheduler, StepOptions } from '../../src/engine/schedulers';

export interface ConformanceCase {
  name: string;
  source: string;
  scheduler: string;
  config: Record<string, unknown>;
  numInferenceSteps: number;
  loop: 'plain' | 'scaled-overwrite' | 'pndm';
  stepKwargs: Record<string, unknown>;
  withNoise: { tStart: number } | null;
  startIndex: number | null;
  sampleShape: number[];
  expected: { sum: number | null; sumTol: number; mean: number; meanTol: number };
}

export interface CaseResult {
  name: string;
  passed: boolean;
  sum: number;
  mean: number;
  detail: string;
}

/** FORMAT.md §4: values (r·B + b)/N laid out with the batch dimension moved to the front. */
function deterministicTensor(shape: number[], reverse: boolean): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const batch = shape[0];
  const perItem = n / batch;
  const values = new Float32Array(n);
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < perItem; r++) {
      const k = r * batch + b;
      values[b * perItem + r] = (reverse ? n - 1 - k : k) / n;
    }
  }
  return tf.tensor(values, shape, 'float32');
}

/** FORMAT.md §4: model(x, t) = (x · t) / (t + 1), in float32, multiply first. */
function dummyModel(x: Tensor, t: number): Tensor {
  const tf32 = Math.fround(t);
  return tf.tidy(() => x.mul(tf.scalar(tf32)).div(tf.scalar(Math.fround(tf32 + 1))));
}

/** snake_case step kwargs of diffusers -> our StepOptions. */
function toStepOptions(kwargs: Record<string, unknown>): StepOptions {
  const map: Record<string, keyof StepOptions> = {
    eta: 'eta',
    use_clipped_model_output: 'useClippedModelOutput',
    s_churn: 'sChurn',
    s_tmin: 'sTmin',
    s_tmax: 'sTmax',
    s_noise: 'sNoise',
    order: 'order',
  };
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(kwargs)) {
    const mapped = map[key];
    if (!mapped) throw new Error(`unsupported step kwarg '${key}'`);
    out[mapped] = value;
  }
  return out as StepOptions;
}

interface PndmLike extends Scheduler {
  prkTimesteps: Float32Array;
  plmsTimesteps: Float32Array;
  stepPrk(modelOutput: Tensor, timestep: number, sample: Tensor): { prevSample: Tensor };
  stepPlms(modelOutput: Tensor, timestep: number, sample: Tensor): { prevSample: Tensor };
}

/** Replaces `x` by `next`, disposing the old value; keeps the loop leak-free. */
function advance(x: Tensor, next: Tensor): Tensor {
  if (next !== x) x.dispose();
  return next;
}

function runLoop(c: ConformanceCase, scheduler: Scheduler, start: Tensor, ts: number[]): Tensor {
  const options = toStepOptions(c.stepKwargs);
  let x = start;
  for (const t of ts) {
    if (c.loop === 'scaled-overwrite') x = advance(x, scheduler.scaleModelInput(x, t));
    const out = dummyModel(x, t);
    const result = scheduler.step(out, t, x, options);
    out.dispose();
    result.predOriginalSample?.dispose();
    x = advance(x, result.prevSample);
  }
  return x;
}

function runPndm(scheduler: PndmLike, start: Tensor): Tensor {
  let x = start;
  for (const t of scheduler.prkTimesteps) {
    const out = dummyModel(x, t);
    x = advance(x, scheduler.stepPrk(out, t, x).prevSample);
    out.dispose();
  }
  for (const t of scheduler.plmsTimesteps) {
    const out = dummyModel(x, t);
    x = advance(x, scheduler.stepPlms(out, t, x).prevSample);
    out.dispose();
  }
  return x;
}

export function runCase(c: ConformanceCase): CaseResult {
  const scheduler = createScheduler(c.scheduler, c.config);
  try {
    scheduler.setTimesteps(c.numInferenceSteps);
    let x = deterministicTensor(c.sampleShape, false);
    let final: Tensor;
    if (c.loop === 'pndm') {
      final = runPndm(scheduler as PndmLike, x);
    } else {
      if (c.loop === 'scaled-overwrite') x = advance(x, x.mul(scheduler.initNoiseSigma));
      let ts: number[] = Array.from(scheduler.timesteps);
      if (c.withNoise) {
        ts = ts.slice(c.withNoise.tStart * scheduler.order);
        const noise = deterministicTensor(c.sampleShape, true);
        x = advance(x, scheduler.addNoise(x, noise, ts[0]));
        noise.dispose();
        // No begin index is set, as in diffusers' tests: the scheduler finds its place by lookup.
      } else if (c.startIndex != null) {
        ts = ts.slice(c.startIndex);
      }
      final = runLoop(c, scheduler, x, ts);
    }
    const sum = tf.tidy(() => final.abs().sum().dataSync()[0]);
    const mean = sum / final.size;
    final.dispose();
    const { expected } = c;
    const meanOk = Math.abs(mean - expected.mean) < expected.meanTol;
    const sumOk = expected.sum === null || Math.abs(sum - expected.sum) < expected.sumTol;
    const detail =
      `sum ${sum.toFixed(4)}` +
      (expected.sum === null ? '' : ` (expected ${expected.sum} ± ${expected.sumTol})`) +
      `, mean ${mean.toFixed(6)} (expected ${expected.mean} ± ${expected.meanTol})`;
    return { name: c.name, passed: meanOk && sumOk, sum, mean, detail };
  } finally {
    scheduler.dispose();
  }
}
