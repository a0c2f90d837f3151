// A denoiser that never runs more images per call than the adapter can hold (limits.ts): a larger
// batch is cut into calls of at most maxBatch() images and the outputs put back together, so the
// result is the same tensor, computed in pieces.
import * as tf from '@tensorflow/tfjs-core';
import type { DenoiseModel } from '../denoiser';
import { planBatches } from './limits';

export interface BatchLimitOptions {
  /** The most images per call now (Infinity: no limit known). Read at every call. */
  maxBatch: () => number;
  /** Told the call sizes whenever a batch is split (for the trace and the tests). */
  onSplit?: (sizes: number[]) => void;
}

/**
 * `model` with predict limited to maxBatch() images per call. Everything else is read from
 * `model` itself (the wrapper's prototype), so pipeline denoisers keep their own properties.
 */
export function withBatchLimit(model: DenoiseModel, options: BatchLimitOptions): DenoiseModel {
  const limited = Object.create(model) as DenoiseModel;
  limited.predict = (x: tf.Tensor4D, timesteps: number[], classes: number[]): tf.Tensor4D => {
    const batch = x.shape[0];
    const limit = options.maxBatch();
    if (!(limit < batch)) return model.predict(x, timesteps, classes);
    const sizes = planBatches(batch, limit);
    options.onSplit?.(sizes);
    return tf.tidy(() => {
      const outputs: tf.Tensor4D[] = [];
      let start = 0;
      for (const size of sizes) {
        const part = x.slice([start, 0, 0, 0], [size, -1, -1, -1]);
        outputs.push(
          model.predict(
            part,
            timesteps.slice(start, start + size),
            classes.slice(start, start + size),
          ),
        );
        start += size;
      }
      return tf.concat(outputs, 0);
    });
  };
  return limited;
}
