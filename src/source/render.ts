// RGBA for the editor's canvases: a [-1, 1] source image (grey, or RGB in HWC order), optionally
// with the mask laid over it in a translucent colour. Canvases draw these at the image's own size
// (28x28 or 32x32) and CSS scales them up pixelated.
import { signedToByte } from './pixels';

/** The overlay colour and how strongly a fully masked pixel takes it. */
export const MASK_COLOUR: readonly [number, number, number] = [255, 48, 96];
export const MASK_OPACITY = 0.6;

/**
 * RGBA of `count` pixels. The channels per pixel are read from the lengths: `count` values are
 * grey, 3 x `count` are RGB. No image (null) is black.
 */
export function imageToRgba(pixels: Float32Array | null, count: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(count * 4);
  const channels = pixels ? pixels.length / count : 1;
  if (pixels && channels !== 1 && channels !== 3) {
    throw new Error(`an image of ${pixels.length} values does not fit ${count} pixels`);
  }
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < 3; c++) {
      out[4 * i + c] = pixels ? signedToByte(pixels[i * channels + (channels === 3 ? c : 0)]) : 0;
    }
    out[4 * i + 3] = 255;
  }
  return out;
}

/** The older name, from when every source was grey; grey or RGB alike. */
export const grayToRgba = imageToRgba;

/** Source with the mask blended over it: out = image (1 - a m) + colour a m. */
export function maskOverlayRgba(
  pixels: Float32Array | null,
  mask: Float32Array,
): Uint8ClampedArray {
  const out = imageToRgba(pixels, mask.length);
  for (let i = 0; i < mask.length; i++) {
    const a = MASK_OPACITY * mask[i];
    if (a <= 0) continue;
    for (let c = 0; c < 3; c++) {
      out[4 * i + c] = Math.round(out[4 * i + c] * (1 - a) + MASK_COLOUR[c] * a);
    }
  }
  return out;
}
