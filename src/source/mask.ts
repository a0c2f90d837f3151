// Mask and brush operations on 28x28 arrays. Every function returns a new array (the store keeps
// old ones for undo and React compares by identity). Positions are continuous pixel
// coordinates: (0, 0) is the top-left corner of the image, (28, 28) the bottom-right one.
import { IMAGE_SIZE, PIXEL_COUNT } from './grid';

export interface Point {
  x: number;
  y: number;
}

export const MIN_BRUSH = 1;
export const MAX_BRUSH = 8;
export const MAX_FEATHER = 2;

export function emptyMask(): Float32Array {
  return new Float32Array(PIXEL_COUNT);
}

export function fullMask(): Float32Array {
  return new Float32Array(PIXEL_COUNT).fill(1);
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
export function brushPixels(p: Point, size: number): number[] {
  const radius = size / 2;
  const out: number[] = [];
  const x0 = Math.max(0, Math.floor(p.x - radius));
  const x1 = Math.min(IMAGE_SIZE - 1, Math.floor(p.x + radius));
  const y0 = Math.max(0, Math.floor(p.y - radius));
  const y1 = Math.min(IMAGE_SIZE - 1, Math.floor(p.y + radius));
  const px = Math.floor(p.x);
  const py = Math.floor(p.y);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - p.x;
      const dy = y + 0.5 - p.y;
      if (dx * dx + dy * dy <= radius * radius || (x === px && y === py)) {
        out.push(y * IMAGE_SIZE + x);
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
  const length = Math.hypot(to.x - from.x, to.y - from.y);
  const stamps = Math.max(1, Math.ceil(length / 0.25));
  for (let s = 0; s <= stamps; s++) {
    const f = s / stamps;
    const p = { x: from.x + (to.x - from.x) * f, y: from.y + (to.y - from.y) * f };
    for (const i of brushPixels(p, size)) out[i] = value;
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
  const out = new Float32Array(PIXEL_COUNT);
  for (let y = 0; y < IMAGE_SIZE; y++) {
    for (let x = 0; x < IMAGE_SIZE; x++) {
      let best = mask[y * IMAGE_SIZE + x];
      for (let dy = -reach; dy <= reach; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= IMAGE_SIZE) continue;
        for (let dx = -reach; dx <= reach; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= IMAGE_SIZE || (dx === 0 && dy === 0)) continue;
          const distance = Math.hypot(dx, dy);
          if (distance > feather) continue;
          const weight = mask[yy * IMAGE_SIZE + xx] * (1 - distance / (feather + 1));
          if (weight > best) best = weight;
        }
      }
      out[y * IMAGE_SIZE + x] = best;
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
 * A pen stroke on a [-1, 1] image: white with a one-pixel anti-aliased edge, brightening only, so
 * hand drawing looks like the soft strokes of the training digits rather than hard blocks.
 */
export function drawSegment(
  image: Float32Array,
  from: Point,
  to: Point,
  size: number,
): Float32Array {
  const out = image.slice();
  const radius = size / 2;
  const x0 = Math.max(0, Math.floor(Math.min(from.x, to.x) - radius - 1));
  const x1 = Math.min(IMAGE_SIZE - 1, Math.ceil(Math.max(from.x, to.x) + radius + 1));
  const y0 = Math.max(0, Math.floor(Math.min(from.y, to.y) - radius - 1));
  const y1 = Math.min(IMAGE_SIZE - 1, Math.ceil(Math.max(from.y, to.y) + radius + 1));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const coverage = Math.min(
        1,
        Math.max(0, radius + 0.5 - distanceToSegment(x + 0.5, y + 0.5, from, to)),
      );
      const value = coverage * 2 - 1;
      const i = y * IMAGE_SIZE + x;
      if (value > out[i]) out[i] = value;
    }
  }
  return out;
}
