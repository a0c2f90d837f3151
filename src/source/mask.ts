// Mask and brush operations on square size x size arrays (28 for the grey models, 32 for emoji;
// a mask's side is read from its length). Every function returns a new array (the store keeps
// old ones for undo and React compares by identity). Positions are continuous pixel
// coordinates: (0, 0) is the top-left corner of the image, (size, size) the bottom-right one.
import { geometryOfLength } from './geometry';
import { IMAGE_SIZE } from './grid';

export interface Point {
  x: number;
  y: number;
}

export const MIN_BRUSH = 1;
export const MAX_BRUSH = 8;
export const MAX_FEATHER = 2;

export function emptyMask(size = IMAGE_SIZE): Float32Array {
  return new Float32Array(size * size);
}

export function fullMask(size = IMAGE_SIZE): Float32Array {
  return new Float32Array(size * size).fill(1);
}

/** The side of a square mask from its length. */
export function maskSide(mask: Float32Array): number {
  const side = Math.round(Math.sqrt(mask.length));
  if (side * side !== mask.length) throw new Error(`a mask of ${mask.length} values is not square`);
  return side;
}

export function invertMask(mask: Float32Array): Float32Array {
  return mask.map((v) => 1 - v);
}

/** Pixels that are regenerated at all (mask above 0). */
export function maskedCount(mask: Float32Array): number {
  let count = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] > 0) count++;
  return count;
}

/**
 * Pixels under a round brush of `size` pixels across centred at `p`: every pixel whose centre
 * lies within size / 2, and always the pixel under the pointer, so size 1 paints single pixels.
 */
export function brushPixels(p: Point, size: number, side = IMAGE_SIZE): number[] {
  const radius = size / 2;
  const out: number[] = [];
  const x0 = Math.max(0, Math.floor(p.x - radius));
  const x1 = Math.min(side - 1, Math.floor(p.x + radius));
  const y0 = Math.max(0, Math.floor(p.y - radius));
  const y1 = Math.min(side - 1, Math.floor(p.y + radius));
  const px = Math.floor(p.x);
  const py = Math.floor(p.y);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - p.x;
      const dy = y + 0.5 - p.y;
      if (dx * dx + dy * dy <= radius * radius || (x === px && y === py)) {
        out.push(y * side + x);
      }
    }
  }
  return out;
}

/**
 * Paints `value` along the segment from `from` to `to` (a dot when they are equal). Pointer events
 * arrive far apart when the pointer moves fast; stamping every quarter pixel along the segment
 * keeps the stroke unbroken.
 */
export function paintSegment(
  target: Float32Array,
  from: Point,
  to: Point,
  size: number,
  value: number,
): Float32Array {
  const out = target.slice();
  const side = maskSide(target);
  const length = Math.hypot(to.x - from.x, to.y - from.y);
  const stamps = Math.max(1, Math.ceil(length / 0.25));
  for (let s = 0; s <= stamps; s++) {
    const f = s / stamps;
    const p = { x: from.x + (to.x - from.x) * f, y: from.y + (to.y - from.y) * f };
    for (const i of brushPixels(p, size, side)) out[i] = value;
  }
  return out;
}

/**
 * Soft edge that grows outward only: what was painted stays fully regenerated, and pixels within
 * `feather` pixels outside it get a weight falling linearly with distance, so the new content
 * blends into the kept source instead of meeting it at a hard seam.
 */
export function featherMask(mask: Float32Array, feather: number): Float32Array {
  if (!(feather > 0)) return mask.slice();
  const reach = Math.ceil(feather);
  const side = maskSide(mask);
  const out = new Float32Array(side * side);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      let best = mask[y * side + x];
      for (let dy = -reach; dy <= reach; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= side) continue;
        for (let dx = -reach; dx <= reach; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= side || (dx === 0 && dy === 0)) continue;
          const distance = Math.hypot(dx, dy);
          if (distance > feather) continue;
          const weight = mask[yy * side + xx] * (1 - distance / (feather + 1));
          if (weight > best) best = weight;
        }
      }
      out[y * side + x] = best;
    }
  }
  return out;
}

/** Distance from (px, py) to the segment a-b. */
function distanceToSegment(px: number, py: number, a: Point, b: Point): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const lengthSq = dx * dx + dy * dy;
  const f =
    lengthSq === 0 ? 0 : Math.max(0, Math.min(1, ((px - a.x) * dx + (py - a.y) * dy) / lengthSq));
  return Math.hypot(px - (a.x + f * dx), py - (a.y + f * dy));
}

/**
 * A pen stroke on a [-1, 1] image with a one-pixel anti-aliased edge. On a grey image it is white
 * and brightens only, so hand drawing looks like the soft strokes of the training digits rather
 * than hard blocks. On an RGB image (HWC) it lays `colour` ([-1, 1] per channel) over what is
 * there, in proportion to how much of each pixel the pen covers.
 */
export function drawSegment(
  image: Float32Array,
  from: Point,
  to: Point,
  size: number,
  colour: readonly [number, number, number] = [-1, -1, -1],
): Float32Array {
  const geometry = geometryOfLength(image.length);
  if (!geometry) throw new Error(`an image of ${image.length} values is not square`);
  const { size: side, channels } = geometry;
  const out = image.slice();
  const radius = size / 2;
  const x0 = Math.max(0, Math.floor(Math.min(from.x, to.x) - radius - 1));
  const x1 = Math.min(side - 1, Math.ceil(Math.max(from.x, to.x) + radius + 1));
  const y0 = Math.max(0, Math.floor(Math.min(from.y, to.y) - radius - 1));
  const y1 = Math.min(side - 1, Math.ceil(Math.max(from.y, to.y) + radius + 1));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const coverage = Math.min(
        1,
        Math.max(0, radius + 0.5 - distanceToSegment(x + 0.5, y + 0.5, from, to)),
      );
      const i = y * side + x;
      if (channels === 1) {
        const value = coverage * 2 - 1;
        if (value > out[i]) out[i] = value;
      } else if (coverage > 0) {
        for (let c = 0; c < 3; c++) {
          out[3 * i + c] = out[3 * i + c] * (1 - coverage) + colour[c] * coverage;
        }
      }
    }
  }
  return out;
}
