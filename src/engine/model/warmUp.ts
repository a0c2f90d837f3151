// One throw-away evaluation right after a model loads, so that the user's first step does not pay
// for one-time set-up: on wasm, XNNPACK's operator creation (it packs every conv's weights on first
// use; the app's first step took 130 ms against 29 ms for the next ones), on WebGL and WebGPU the
// shader compilation (seconds on a software GPU). Shapes matter to both, so it runs at the batch
// the next run is likely to use.
import * as tf from '@tensorflow/tfjs-core';
import type { UNet } from './unet';

/** Largest batch the warm-up accepts: the app's biggest run (16 images with guidance). */
export const MAX_WARM_UP_BATCH = 32;

/** Evaluates `unet` once on zeros at `batch` and reads the result back; returns the ms it took. */
export async function warmUp(unet: UNet, batch: number): Promise<number> {
  if (!Number.isInteger(batch) || batch < 1 || batch > MAX_WARM_UP_BATCH) {
    throw new Error(`warm-up batch must be an integer in [1, ${MAX_WARM_UP_BATCH}], got ${batch}`);
  }
  const { image_size: size, in_channels: channels } = unet.config;
  const t0 = performance.now();
  const x = tf.zeros([batch, size, size, channels]) as tf.Tensor4D;
  const out = unet.predict(x, 500, new Array<number>(batch).fill(unet.nullClassId));
  try {
    await out.data();
  } finally {
    tf.dispose([x, out]);
  }
  return performance.now() - t0;
}
