// Conversions between 8-bit pixels and the models' [-1, 1] range.
import { GREY_28, valueCount, type SourceGeometry } from './geometry';

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

/**
 * A canvas to draw on by hand, in the background of the model's training images: black for the
 * grey models (light strokes on black), white for colour ones (the emoji are composited on white).
 */
export function blankSource(geometry: SourceGeometry = GREY_28): Float32Array {
  return new Float32Array(valueCount(geometry)).fill(geometry.channels === 3 ? 1 : -1);
}

/** Negative of an image in [-1, 1]. */
export function invertSigned(pixels: Float32Array): Float32Array {
  return pixels.map((v) => -v);
}

/** True when the array has `length` values, every one finite and within [lo, hi]. */
export function isImageArray(
  values: Float32Array,
  lo: number,
  hi: number,
  length = valueCount(GREY_28),
): boolean {
  if (values.length !== length) return false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= lo && v <= hi)) return false;
  }
  return true;
}

/** RGBA pixels composited over white, as HWC RGB in [0, 1] (how the emoji data were made). */
export function rgbaToRgbOnWhite(
  rgba: ArrayLike<number>,
  width: number,
  height: number,
): Float32Array {
  const count = width * height;
  if (rgba.length < count * 4) throw new Error(`RGBA data too short for ${width}x${height}`);
  const out = new Float32Array(count * 3);
  for (let i = 0; i < count; i++) {
    const a = rgba[4 * i + 3] / 255;
    for (let c = 0; c < 3; c++) out[3 * i + c] = (rgba[4 * i + c] / 255) * a + (1 - a);
  }
  return out;
}

/** "#rrggbb" as [r, g, b] in [-1, 1], or null when it is not such a colour. */
export function hexToSigned(hex: string): [number, number, number] | null {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!match) return null;
  return [1, 2, 3].map((i) => parseInt(match[i], 16) / 127.5 - 1) as [number, number, number];
}
