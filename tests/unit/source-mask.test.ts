import { describe, expect, it } from 'vitest';
import { IMAGE_SIZE, PIXEL_COUNT } from '../../src/source/grid';
import {
  brushPixels,
  drawSegment,
  emptyMask,
  featherMask,
  fullMask,
  invertMask,
  maskedCount,
  paintSegment,
} from '../../src/source/mask';

const at = (x: number, y: number) => y * IMAGE_SIZE + x;

describe('brush footprint', () => {
  it('size 1 paints exactly the pixel under the pointer', () => {
    expect(brushPixels({ x: 5.2, y: 7.9 }, 1)).toEqual([at(5, 7)]);
    expect(brushPixels({ x: 0, y: 0 }, 1)).toEqual([at(0, 0)]);
  });

  it('size 3 at a pixel centre is a plus-free 3x3 disc: centre ring within 1.5 px', () => {
    const pixels = brushPixels({ x: 10.5, y: 10.5 }, 3).sort((a, b) => a - b);
    // Centres within 1.5: the 3x3 block (corners at distance 1.41).
    const expected = [];
    for (let y = 9; y <= 11; y++) for (let x = 9; x <= 11; x++) expected.push(at(x, y));
    expect(pixels).toEqual(expected);
  });

  it('size 8 covers about a disc of area pi * 16 and is clipped at the border', () => {
    const inside = brushPixels({ x: 14, y: 14 }, 8).length;
    expect(inside).toBeGreaterThanOrEqual(48);
    expect(inside).toBeLessThanOrEqual(56);
    const corner = brushPixels({ x: 0, y: 0 }, 8);
    expect(corner.length).toBeGreaterThan(0);
    expect(corner.every((i) => i >= 0 && i < PIXEL_COUNT)).toBe(true);
    expect(corner.length).toBeLessThan(inside / 2);
  });
});

describe('strokes', () => {
  it('a fast stroke between far-apart pointer positions leaves no gaps', () => {
    const mask = paintSegment(emptyMask(), { x: 1.5, y: 3.5 }, { x: 26.5, y: 3.5 }, 1, 1);
    for (let x = 1; x <= 26; x++) expect(mask[at(x, 3)]).toBe(1);
    expect(maskedCount(mask)).toBe(26);
  });

  it('a diagonal stroke is 8-connected from end to end', () => {
    const mask = paintSegment(emptyMask(), { x: 2.5, y: 2.5 }, { x: 20.5, y: 24.5 }, 1, 1);
    const painted = [];
    for (let i = 0; i < PIXEL_COUNT; i++) if (mask[i]) painted.push(i);
    for (const i of painted) {
      const x = i % IMAGE_SIZE;
      const y = Math.floor(i / IMAGE_SIZE);
      if (x === 20 && y === 24) continue;
      // Every pixel but the last has a painted neighbour further along (down or right).
      const next = [at(x + 1, y), at(x, y + 1), at(x + 1, y + 1)].some((j) => mask[j] === 1);
      expect(next).toBe(true);
    }
  });

  it('eraser paints zeros and does not change the input array', () => {
    const full = fullMask();
    const erased = paintSegment(full, { x: 14, y: 14 }, { x: 14, y: 14 }, 2, 0);
    expect(maskedCount(full)).toBe(PIXEL_COUNT);
    expect(maskedCount(erased)).toBe(PIXEL_COUNT - brushPixels({ x: 14, y: 14 }, 2).length);
  });
});

describe('mask operations', () => {
  it('invert swaps kept and regenerated pixels, twice is identity', () => {
    const mask = paintSegment(emptyMask(), { x: 3, y: 3 }, { x: 9, y: 3 }, 2, 1);
    const inverted = invertMask(mask);
    expect(maskedCount(inverted)).toBe(PIXEL_COUNT - maskedCount(mask));
    expect(Array.from(invertMask(inverted))).toEqual(Array.from(mask));
  });

  it('feather 0 is the hard mask; feather keeps painted pixels at 1 and fades outward', () => {
    const mask = emptyMask();
    mask[at(10, 10)] = 1;
    expect(Array.from(featherMask(mask, 0))).toEqual(Array.from(mask));
    const soft = featherMask(mask, 2);
    expect(soft[at(10, 10)]).toBe(1);
    expect(soft[at(11, 10)]).toBeCloseTo(1 - 1 / 3, 6);
    expect(soft[at(12, 10)]).toBeCloseTo(1 - 2 / 3, 6);
    expect(soft[at(13, 10)]).toBe(0);
    expect(soft[at(11, 11)]).toBeCloseTo(1 - Math.SQRT2 / 3, 6);
    // Radius 2 disc around one pixel: 13 pixels touched.
    expect(maskedCount(soft)).toBe(13);
    const one = featherMask(mask, 1);
    expect(one[at(11, 10)]).toBeCloseTo(0.5, 6);
    expect(one[at(11, 11)]).toBe(0);
  });
});

describe('pen drawing on the source', () => {
  it('paints white along the line with a one-pixel soft edge and never darkens', () => {
    const image = new Float32Array(PIXEL_COUNT).fill(-1);
    image[at(3, 20)] = 0.5;
    const drawn = drawSegment(image, { x: 4, y: 10.5 }, { x: 24, y: 10.5 }, 1);
    for (let x = 4; x < 24; x++) expect(drawn[at(x, 10)]).toBe(1);
    // Neighbouring rows are 1 px from the line: radius 0.5 + 0.5 edge - 1 = no coverage.
    expect(drawn[at(10, 9)]).toBe(-1);
    // End caps are round: pixel 3 has its centre 0.5 px beyond the end, half covered (0 in
    // [-1, 1]).
    expect(drawn[at(3, 10)]).toBeCloseTo(0, 6);
    const thick = drawSegment(image, { x: 14, y: 14 }, { x: 14, y: 14 }, 3);
    // 1.5 + 0.5 - 0.707: full coverage at the four pixels around the point; 0.42 at (15, 14).
    expect(thick[at(13, 13)]).toBe(1);
    expect(thick[at(15, 14)]).toBeCloseTo((2 - Math.hypot(1.5, 0.5)) * 2 - 1, 5);
    expect(drawn[at(3, 20)]).toBe(0.5); // untouched
    expect(image[at(10, 10)]).toBe(-1); // input not modified
  });
});
