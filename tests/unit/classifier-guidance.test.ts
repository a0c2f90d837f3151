// Classifier guidance (src/engine/classifierGuidance.ts) and its use in a run: the gradient of
// log p(y | x_t) through tf.grad, the noise-level match between the model's and the classifier's
// schedules, the eps / v correction, and what a run does with it.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  ClassifierGuide,
  withClassifierGuidance,
  type NoisyImageClassifier,
} from '../../src/engine/classifierGuidance';
import { DiffusionRun } from '../../src/engine/run/diffusionRun';
import { sigmaAtTimestep } from '../../src/engine/replan';
import type { NoiseScheduleConfig } from '../../src/engine/schedule/betas';
import { SCHEDULE, gaussianRunModel, meanAndStd } from './gaussianDenoiser';
import { runSettings } from './runSettingsFixture';

const COSINE: NoiseScheduleConfig = { ...SCHEDULE, beta_schedule: 'squaredcos_cap_v2' };

/** Two classes, logits [w·sum(x), 0]: class 0 likes bright images. Differentiable, exact gradient. */
class LinearClassifier implements NoisyImageClassifier {
  readonly numClasses = 2;
  seenTimesteps: number[] = [];
  constructor(readonly w: number) {}
  logits(x: tf.Tensor4D, t: number | number[]): tf.Tensor2D {
    this.seenTimesteps.push(typeof t === 'number' ? t : t[0]);
    return tf.tidy(() => {
      const score = tf.mul(tf.sum(x, [1, 2, 3]), this.w);
      return tf.stack([score, tf.zerosLike(score)], 1) as tf.Tensor2D;
    });
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('ClassifierGuide', () => {
  it('gives grad_x log p(y | x) of the classifier, and zero for the null class', () => {
    const w = 0.05;
    const guide = new ClassifierGuide(new LinearClassifier(w), SCHEDULE);
    const x = tf.randomNormal([3, 4, 4, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
    const grad = guide.gradient(x, 1.0, [0, 1, 10]);
    const sums = tf.sum(x, [1, 2, 3]).arraySync() as number[];
    const values = grad.arraySync() as number[][][][];
    // d/dx log softmax([w S, 0])_0 = w (1 - p0); for class 1: -w p0; p0 = sigmoid(w S).
    const p0 = sums.map((s) => 1 / (1 + Math.exp(-w * s)));
    expect(values[0][2][1][0]).toBeCloseTo(w * (1 - p0[0]), 6);
    expect(values[1][0][3][0]).toBeCloseTo(-w * p0[1], 6);
    expect(values[2].flat(2).every((v) => v === 0)).toBe(true);
    tf.dispose([x, grad]);
  });

  it('asks the classifier at its own timestep of the same noise level', () => {
    // A classifier trained on the cosine schedule, guiding a model on the linear one.
    const guide = new ClassifierGuide(new LinearClassifier(1), COSINE);
    for (const t of [3, 100.5, 500, 990]) {
      const sigma = sigmaAtTimestep(COSINE, t);
      expect(guide.timestepFor(sigma)).toBeCloseTo(t, 0);
    }
    const linearSigma = sigmaAtTimestep(SCHEDULE, 500);
    const mapped = guide.timestepFor(linearSigma);
    expect(sigmaAtTimestep(COSINE, mapped) / linearSigma).toBeCloseTo(1, 2);
    expect(Math.abs(mapped - 500)).toBeGreaterThan(20); // the schedules really differ there
  });

  it('shifts eps by -s·sigma_vp·grad, and v consistently', () => {
    const x = tf.tensor4d([0.5, -0.2], [1, 1, 2, 1]);
    const eps = tf.tensor4d([0.1, 0.3], [1, 1, 2, 1]);
    const grad = tf.tensor4d([1, -2], [1, 1, 2, 1]);
    const sigma = 0.75;
    const alpha = 1 / Math.sqrt(1 + sigma * sigma);
    const sigmaVp = sigma * alpha;
    const guided = withClassifierGuidance('epsilon', eps, x, sigma, grad, 2).arraySync();
    expect(guided[0][0][0][0]).toBeCloseTo(0.1 - 2 * sigmaVp * 1, 6);
    expect(guided[0][0][1][0]).toBeCloseTo(0.3 + 2 * sigmaVp * 2, 6);
    // The same eps written as v = (eps - sigma_vp x) / alpha must come back as the guided eps.
    const v = tf.div(tf.sub(eps, tf.mul(x, sigmaVp)), alpha) as tf.Tensor4D;
    const guidedV = withClassifierGuidance('v_prediction', v, x, sigma, grad, 2);
    const backToEps = tf
      .add(tf.mul(guidedV, alpha), tf.mul(x, sigmaVp))
      .arraySync() as number[][][][];
    expect(backToEps[0][0][0][0]).toBeCloseTo(guided[0][0][0][0], 5);
    expect(backToEps[0][0][1][0]).toBeCloseTo(guided[0][0][1][0], 5);
  });
});

describe('classifier guidance in a run', () => {
  const model = (w: number) => ({
    ...gaussianRunModel(),
    classifier: { guide: new ClassifierGuide(new LinearClassifier(w), SCHEDULE), problem: null },
  });
  const finish = (run: DiffusionRun) => {
    while (!run.done) run.step();
    const out = run.displaySample();
    run.dispose();
    return out;
  };
  const settings = (scale: number, sampler = 'DPM++ 2M') =>
    runSettings({
      sampler,
      steps: 20,
      classes: [0, 0, 0, 0],
      seeds: [1, 2, 3, 4],
      guidanceScale: 1,
      classifierGuidanceScale: scale,
    });

  it('pulls samples towards the guided class, more with a larger scale, on VP and sigma samplers', () => {
    for (const sampler of ['DPM++ 2M', 'Euler']) {
      const means = [0, 1, 4].map(
        (s) => meanAndStd(finish(new DiffusionRun(model(0.05), settings(s, sampler)))).mean,
      );
      expect(means[1]).toBeGreaterThan(means[0] + 0.01);
      expect(means[2]).toBeGreaterThan(means[1] + 0.03);
    }
  });

  it('scale 0 is exactly the unguided run', () => {
    const plain = finish(new DiffusionRun(gaussianRunModel(), settings(0)));
    const zero = finish(new DiffusionRun(model(0.05), settings(0)));
    expect(Array.from(zero)).toEqual(Array.from(plain));
  });

  it('can be turned on mid-run, and says why when there is no classifier', () => {
    const run = new DiffusionRun(model(0.05), settings(0));
    run.step();
    run.update({ classifierGuidanceScale: 3 });
    expect(() => run.step()).not.toThrow();
    run.dispose();
    expect(() => new DiffusionRun(gaussianRunModel(), settings(1))).toThrow(
      /Classifier guidance is not available/,
    );
    const loading = {
      ...gaussianRunModel(),
      classifier: { guide: null, problem: 'still loading' },
    };
    expect(() => new DiffusionRun(loading, settings(1))).toThrow(/still loading/);
    expect(() => new DiffusionRun(model(0.05), settings(-1))).toThrow(/between 0 and/);
  });
});
