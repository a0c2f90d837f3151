// The inputs both engines get, byte for byte. With one channel, NHWC [N, 28, 28, 1] (ours) and
// NCHW [N, 1, 28, 28] (the ONNX graph) are the same memory layout, so one Float32Array feeds both
// and the two outputs compare element by element.
import { Xoshiro128, gaussianArray } from '../src/engine/gaussian';

export interface ModelInput {
  /** Images in one model call. */
  batch: number;
  /** [batch, size, size, 1], standard normal (x_t at high noise looks like this). */
  x: Float32Array;
  timesteps: Float64Array;
  classes: Int32Array;
}

/**
 * `images` samples; with `cfg`, the batch is doubled exactly as guidedModelOutput (denoiser.ts)
 * builds it: [x, x], the timesteps twice, the classes then the null class for every image.
 */
export function modelInput(
  images: number,
  cfg: boolean,
  size: number,
  nullClass: number,
  seed = 7,
): ModelInput {
  const pixels = size * size;
  const x = gaussianArray(new Xoshiro128(seed + images), images * pixels);
  // One timestep for the whole batch, as a sampler step uses; a fractional one (Karras sigmas).
  const t = 500.5;
  const classes = Int32Array.from({ length: images }, (_, i) => i % nullClass);
  if (!cfg) {
    return { batch: images, x, timesteps: new Float64Array(images).fill(t), classes };
  }
  const doubled = new Float32Array(2 * images * pixels);
  doubled.set(x, 0);
  doubled.set(x, images * pixels);
  const both = new Int32Array(2 * images).fill(nullClass);
  both.set(classes, 0);
  return {
    batch: 2 * images,
    x: doubled,
    timesteps: new Float64Array(2 * images).fill(t),
    classes: both,
  };
}
