// Conversions between 8-bit pixels and the models' [-1, 1] range.
import { PIXEL_COUNT } from './grid';

/** 0..255 -> [-1, 1], as the training scripts scale the data (x / 127.5 - 1). */
export function bytesToSigned(bytes: ArrayLike<number>): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 127.5 - 1;
  return out;
}

/** [-1, 1] -> 0..255, clipped and rounded (how every canvas in the app shows an image). */
export function signedToByte(value: number): number {
  const byte = Math.round((value + 1) * 127.5);
  return byte < 0 ? 0 : byte > 255 ? 255 : byte;
}

/** Luminance (Rec. 601) of RGBA pixels composited over black, in [0, 1]. */
export function rgbaToGray(rgba: ArrayLike<number>, width: number, height: number): Float32Array {
  const count = width * height;
  if (rgba.length < count * 4) throw new Error(`RGBA data too short for ${width}x${height}`);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const r = rgba[4 * i];
    const g = rgba[4 * i + 1];
    const b = rgba[4 * i + 2];
    const a = rgba[4 * i + 3] / 255;
    out[i] = ((0.299 * r + 0.587 * g + 0.114 * b) / 255) * a;
  }
  return out;
}

/** A black image (the background of every training image), for drawing by hand. */
export function blankSource(): Float32Array {
  return new Float32Array(PIXEL_COUNT).fill(-1);
}

/** Negative of an image in [-1, 1]. */
export function invertSigned(pixels: Float32Array): Float32Array {
  return pixels.map((v) => -v);
}

/** True when the array is a full image with every value finite and within [lo, hi]. */
export function isImageArray(values: Float32Array, lo: number, hi: number): boolean {
  if (values.length !== PIXEL_COUNT) return false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= lo && v <= hi)) return false;
  }
  return true;
}
