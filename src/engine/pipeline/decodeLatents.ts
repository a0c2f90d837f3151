// Latent views through the VAE decoder for display: several views of one batch in one call.
import * as tf from '@tensorflow/tfjs-core';
import { readBack } from '../run/readBack';
import type { LatentSpace } from './sampleSpace';

/** Each of `views` (NHWC latents of `batch` images, flat) decoded to pixels in [-1, 1], flat. */
export async function decodeLatents(
  space: LatentSpace,
  batch: number,
  views: Float32Array[],
): Promise<Float32Array[]> {
  const [lh, lw, lc] = space.latentShape;
  const pixels = tf.tidy(() => {
    const all = tf.concat(views.map((v) => tf.tensor4d(v, [batch, lh, lw, lc])));
    return space.decode(all);
  });
  try {
    const [flat] = await readBack([pixels]);
    const per = flat.length / views.length;
    return views.map((_, i) => flat.slice(i * per, (i + 1) * per));
  } finally {
    pixels.dispose();
  }
}
