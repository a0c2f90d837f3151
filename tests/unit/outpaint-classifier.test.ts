// Classifier guidance on an outpainting canvas: each window's gradient of log p(y | window),
// averaged per pixel like the model outputs; a guided run on a windowed model goes end to end.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import type { Tensor2D, Tensor4D } from '@tensorflow/tfjs-core';
import { ClassifierGuide, type NoisyImageClassifier } from '../../src/engine/classifierGuidance';
import { WindowLayout } from '../../src/engine/outpaint/windowBlend';
import { windowedGuide } from '../../src/engine/outpaint/windowedClassifier';
import { windowedRunModel } from '../../src/engine/outpaint/windowedDenoiser';
import { DiffusionRun, type ClassifierSlot } from '../../src/engine/run/diffusionRun';
import { SCHEDULE, gaussianRunModel } from './gaussianDenoiser';
import { runSettings } from './runSettingsFixture';

/**
 * A linear classifier of 8×8 images: logit j = <x, W_j> with fixed patterns W_j. It reads every
 * pixel of its input by position, so a window's gradient depends on where the window sits.
 */
class PatternClassifier implements NoisyImageClassifier {
  readonly numClasses = 3;
  private readonly patterns = tf.randomNormal([64, 3], 0, 1, 'float32', 5) as Tensor2D;

  logits(x: Tensor4D): Tensor2D {
    return tf.matMul(tf.reshape(x, [x.shape[0], 64]), this.patterns);
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('windowed classifier guidance', () => {
  const guide = new ClassifierGuide(new PatternClassifier(), SCHEDULE);

  it('is the plain gradient on a canvas of the classifier’s size', () => {
    const layout = new WindowLayout({ height: 8, width: 8 }, { height: 8, width: 8 });
    const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 1) as Tensor4D;
    const plain = guide.gradient(x, 0.5, [0, 2]);
    const windowed = windowedGuide(guide, layout).gradient(x, 0.5, [0, 2]);
    expect(Array.from(windowed.dataSync())).toEqual(Array.from(plain.dataSync()));
    tf.dispose([x, plain, windowed]);
  });

  it('averages the windows’ own gradients per pixel on a 16×8 canvas', () => {
    const layout = new WindowLayout({ height: 8, width: 16 }, { height: 8, width: 8 });
    expect(layout.windows.map((w) => w.x)).toEqual([0, 4, 8]);
    const x = tf.randomNormal([1, 8, 16, 1], 0, 1, 'float32', 2) as Tensor4D;
    const got = windowedGuide(guide, layout).gradient(x, 0.5, [1]).dataSync();
    const perWindow = [0, 4, 8].map((left) =>
      guide.gradient(tf.slice(x, [0, 0, left, 0], [1, 8, 8, 1]), 0.5, [1]).dataSync(),
    );
    for (let y = 0; y < 8; y++) {
      for (let col = 0; col < 16; col++) {
        const over = [0, 4, 8].flatMap((left, k) =>
          col >= left && col < left + 8 ? [perWindow[k][y * 8 + col - left]] : [],
        );
        const mean = over.reduce((a, v) => a + v, 0) / over.length;
        expect(got[y * 16 + col]).toBeCloseTo(mean, 5);
      }
    }
    x.dispose();
  });

  it('steers a run on a windowed model, and reads a classifier that loads late', () => {
    const slot: ClassifierSlot = { guide: null, problem: 'still loading' };
    const model = { ...gaussianRunModel(), classifier: slot };
    const canvas = { height: 8, width: 16, offsetY: 0, offsetX: 0 };
    const windowed = windowedRunModel(model, canvas);
    const settings = runSettings(
      { sampler: 'Euler', steps: 4, guidanceScale: 1, classes: [1], seeds: [9] },
      { outpaint: canvas, classifierGuidanceScale: 2 },
    );
    expect(() => new DiffusionRun(windowed, settings)).toThrow('still loading');
    slot.guide = guide;
    slot.problem = null;
    const guided = new DiffusionRun(windowed, settings);
    const plain = new DiffusionRun(windowed, { ...settings, classifierGuidanceScale: 0 });
    while (!guided.done) guided.step();
    while (!plain.done) plain.step();
    const a = guided.displaySample();
    const b = plain.displaySample();
    expect(a).toHaveLength(8 * 16);
    expect(a.every(Number.isFinite)).toBe(true);
    expect(a.some((v, i) => Math.abs(v - b[i]) > 1e-3)).toBe(true);
    guided.dispose();
    plain.dispose();
  });
});
