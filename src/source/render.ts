// RGBA for the editor's canvases: a [-1, 1] grayscale image, optionally with the mask laid over
// it in a translucent colour. Canvases draw these 28x28 and CSS scales them up pixelated.
import { signedToByte } from './pixels';

/** The overlay colour and how strongly a fully masked pixel takes it. */
export const MASK_COLOUR: readonly [number, number, number] = [255, 48, 96];
export const MASK_OPACITY = 0.6;

export function grayToRgba(pixels: Float32Array | null, count: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(count * 4);
  for (let i = 0; i < count; i++) {
    const g = pixels ? signedToByte(pixels[i]) : 0;
    out[4 * i] = g;
    out[4 * i + 1] = g;
    out[4 * i + 2] = g;
    out[4 * i + 3] = 255;
  }
  return out;
}

/** Source with the mask blended over it: out = gray (1 - a m) + colour a m. */
export function maskOverlayRgba(
  pixels: Float32Array | null,
  mask: Float32Array,
): Uint8ClampedArray {
  const out = grayToRgba(pixels, mask.length);
  for (let i = 0; i < mask.length; i++) {
    const a = MASK_OPACITY * mask[i];
    if (a <= 0) continue;
    for (let c = 0; c < 3; c++) {
      out[4 * i + c] = Math.round(out[4 * i + c] * (1 - a) + MASK_COLOUR[c] * a);
    }
  }
  return out;
}
