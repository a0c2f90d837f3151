// Converts a source image and its mask between geometries when the loaded model changes, so what
// the person made survives a switch from the 28x28 grey digit models to the 32x32 colour emoji
// model and back: grey becomes RGB by replication, RGB becomes grey by luminance, the size changes
// by area averaging (smaller) or bilinear interpolation (larger), and the mask by nearest
// neighbour so a painted mask stays a painted mask (0 or 1), not a blur of it.
import { resizeArea } from './fitImage';
import { pixelCount, sameGeometry, type SourceGeometry } from './geometry';

/** Rec. 601 luma weights, as rgbaToGray uses: they sum to 1, so [-1, 1] stays [-1, 1]. */
const LUMA = [0.299, 0.587, 0.114] as const;

const clampSigned = (v: number) => (v < -1 ? -1 : v > 1 ? 1 : v);

/** HWC pixels with `from` channels per pixel as `to` channels per pixel (1 or 3). */
export function convertChannels(pixels: Float32Array, from: 1 | 3, to: 1 | 3): Float32Array {
  if (from === to) return pixels.slice();
  const count = pixels.length / from;
  const out = new Float32Array(count * to);
  if (from === 1) {
    for (let i = 0; i < count; i++) out.fill(pixels[i], 3 * i, 3 * i + 3);
  } else {
    for (let i = 0; i < count; i++) {
      const v = LUMA[0] * pixels[3 * i] + LUMA[1] * pixels[3 * i + 1] + LUMA[2] * pixels[3 * i + 2];
      out[i] = clampSigned(v);
    }
  }
  return out;
}

/**
 * Bilinear resampling of one size x size plane to outSize x outSize, pixel centres aligned the
 * way image libraries do it (align_corners = false): output pixel o samples (o + 0.5) s - 0.5.
 */
export function resizeBilinear(plane: Float32Array, size: number, outSize: number): Float32Array {
  const scale = size / outSize;
  const taps = Array.from({ length: outSize }, (_, o) => {
    const at = Math.min(size - 1, Math.max(0, (o + 0.5) * scale - 0.5));
    const lo = Math.floor(at);
    return { lo, hi: Math.min(size - 1, lo + 1), f: at - lo };
  });
  const out = new Float32Array(outSize * outSize);
  for (let oy = 0; oy < outSize; oy++) {
    const ty = taps[oy];
    for (let ox = 0; ox < outSize; ox++) {
      const tx = taps[ox];
      const top = plane[ty.lo * size + tx.lo] * (1 - tx.f) + plane[ty.lo * size + tx.hi] * tx.f;
      const bottom = plane[ty.hi * size + tx.lo] * (1 - tx.f) + plane[ty.hi * size + tx.hi] * tx.f;
      out[oy * outSize + ox] = top * (1 - ty.f) + bottom * ty.f;
    }
  }
  return out;
}

/** HWC size x size image to outSize x outSize: area average when shrinking, bilinear when growing. */
export function resizeImage(
  pixels: Float32Array,
  size: number,
  channels: number,
  outSize: number,
): Float32Array {
  if (outSize === size) return pixels.slice();
  const count = size * size;
  const out = new Float32Array(outSize * outSize * channels);
  const plane = new Float32Array(count);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < count; i++) plane[i] = pixels[i * channels + c];
    const resized =
      outSize < size
        ? resizeArea(plane, size, size, outSize, outSize)
        : resizeBilinear(plane, size, outSize);
    for (let i = 0; i < resized.length; i++) out[i * channels + c] = clampSigned(resized[i]);
  }
  return out;
}

/** A [-1, 1] source image at geometry `from` converted to geometry `to`. */
export function convertPixels(
  pixels: Float32Array,
  from: SourceGeometry,
  to: SourceGeometry,
): Float32Array {
  if (sameGeometry(from, to)) return pixels.slice();
  // Fewer values first: drop channels before resizing, add them after.
  if (to.channels < from.channels) {
    return resizeImage(convertChannels(pixels, from.channels, to.channels), from.size, 1, to.size);
  }
  return convertChannels(
    resizeImage(pixels, from.size, from.channels, to.size),
    from.channels,
    to.channels,
  );
}

/** A size x size mask at outSize x outSize by nearest neighbour (pixel centres aligned). */
export function resizeMask(mask: Float32Array, size: number, outSize: number): Float32Array {
  if (outSize === size) return mask.slice();
  const pick = Array.from({ length: outSize }, (_, o) =>
    Math.min(size - 1, Math.floor(((o + 0.5) * size) / outSize)),
  );
  const out = new Float32Array(outSize * outSize);
  for (let y = 0; y < outSize; y++) {
    for (let x = 0; x < outSize; x++) out[y * outSize + x] = mask[pick[y] * size + pick[x]];
  }
  return out;
}

/** A mask made for geometry `from` at geometry `to` (only the size matters). */
export function convertMask(
  mask: Float32Array,
  from: SourceGeometry,
  to: SourceGeometry,
): Float32Array {
  if (mask.length !== pixelCount(from)) {
    throw new Error(`mask has ${mask.length} values, not ${pixelCount(from)}`);
  }
  return resizeMask(mask, from.size, to.size);
}
