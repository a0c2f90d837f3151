// Classifier guidance on an outpainting canvas. MultiDiffusion averages each window's guided
// model output per pixel; a window's guidance term is its own gradient of log p(y | window), so
// the canvas gets those gradients averaged the same way. (The classifier itself pools over its
// whole input: shown the canvas at once it would judge the canvas as one image.)
import type { Tensor4D } from '@tensorflow/tfjs-core';
import type { ClassifierGuide } from '../classifierGuidance';
import type { ClassifierSlot } from '../run/diffusionRun';
import type { WindowLayout } from './windowBlend';
import * as tf from '@tensorflow/tfjs-core';

/** `guide` asked per window: crop, one batched gradient for all windows, blend back. */
export function windowedGuide(guide: ClassifierGuide, layout: WindowLayout): ClassifierGuide {
  // Everything but gradient is the guide's own (its classifier, its noise-level mapping), so the
  // windowed one is the guide with one method replaced rather than a copy of its class.
  const windowed = Object.create(guide) as ClassifierGuide;
  windowed.gradient = (x: Tensor4D, sigma: number, classes: number[]) =>
    tf.tidy(() => layout.blend(guide.gradient(layout.crop(x), sigma, layout.repeat(classes))));
  return windowed;
}

/**
 * The model's classifier slot seen through the windows. The slot is filled in when the classifier
 * has loaded (possibly after the run started), so it is read through, not copied.
 */
export function windowedClassifierSlot(slot: ClassifierSlot, layout: WindowLayout): ClassifierSlot {
  let wrapped: { of: ClassifierGuide; guide: ClassifierGuide } | null = null;
  return {
    get guide() {
      const guide = slot.guide;
      if (!guide) return null;
      if (wrapped?.of !== guide) wrapped = { of: guide, guide: windowedGuide(guide, layout) };
      return wrapped.guide;
    },
    get problem() {
      return slot.problem;
    },
  };
}
