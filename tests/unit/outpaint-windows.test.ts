// Outpainting's geometry without tfjs: where the windows sit, how many cover each pixel, the
// checks on canvas size and placement, and the known image placed as canvas-size inpainting.
import { describe, expect, it } from 'vitest';
import {
  canvasPresets,
  outpaintProblem,
  placeKnownImage,
  sizeLabel,
  type OutpaintSettings,
} from '../../src/engine/outpaint/outpaintSettings';
import { coverageCounts, windowGrid, windowStarts } from '../../src/engine/outpaint/windows';

const MNIST = { height: 28, width: 28 };
const canvas = (patch: Partial<OutpaintSettings> = {}): OutpaintSettings => ({
  height: 28,
  width: 56,
  offsetY: 0,
  offsetX: 0,
  ...patch,
});

describe('window placement', () => {
  it('steps by the stride and always ends flush with the far edge', () => {
    expect(windowStarts(28, 28, 14)).toEqual([0]);
    expect(windowStarts(56, 28, 14)).toEqual([0, 14, 28]);
    expect(windowStarts(50, 28, 14)).toEqual([0, 14, 22]);
    expect(windowStarts(112, 28, 14)).toEqual([0, 14, 28, 42, 56, 70, 84]);
    expect(() => windowStarts(20, 28, 14)).toThrow('Cannot tile 20 pixels');
  });

  it('tiles a 56×56 canvas with 3 × 3 half-overlapping windows', () => {
    const grid = windowGrid({ height: 56, width: 56 }, MNIST);
    expect(grid).toHaveLength(9);
    expect(grid[4]).toEqual({ y: 14, x: 14 });
  });

  it('counts the windows over each pixel: 1, 2, 2, 1 across a 56-wide canvas', () => {
    const size = { height: 28, width: 56 };
    const counts = coverageCounts(size, MNIST, windowGrid(size, MNIST));
    const row = Array.from(counts.subarray(0, 56));
    expect(row).toEqual([
      ...new Array(14).fill(1),
      ...new Array(28).fill(2),
      ...new Array(14).fill(1),
    ]);
    // Every row is the same: one window tall.
    expect(Array.from(counts.subarray(27 * 56, 28 * 56))).toEqual(row);
  });
});

describe('outpainting settings', () => {
  it('accepts 2× canvases with the known image anywhere on them', () => {
    for (const preset of canvasPresets(MNIST)) {
      expect(outpaintProblem({ ...preset, offsetY: 0, offsetX: 0 }, MNIST, MNIST)).toBeNull();
    }
    expect(outpaintProblem(canvas({ offsetX: 28 }), MNIST, MNIST)).toBeNull();
    expect(canvasPresets(MNIST).slice(0, 3).map(sizeLabel)).toEqual(['56×28', '28×56', '56×56']);
    expect(canvasPresets({ height: 32, width: 32 })[0]).toEqual({ width: 64, height: 32 });
  });

  it('refuses canvases too small, too large or fractional, and known images off the canvas', () => {
    expect(outpaintProblem(canvas({ width: 20 }), MNIST, MNIST)).toBe(
      "The canvas must be at least the model's size, 28×28 (got 20×28)",
    );
    expect(outpaintProblem(canvas({ width: 113 }), MNIST, MNIST)).toBe(
      "The canvas can be at most 4× the model's size, 112×112 (got 113×28)",
    );
    expect(outpaintProblem(canvas({ height: 28.5 }), MNIST, MNIST)).toMatch(/whole pixels/);
    expect(outpaintProblem(canvas({ offsetX: 29 }), MNIST, MNIST)).toBe(
      'The known image (28×28) at offset x 29, y 0 does not fit on the 56×28 canvas: ' +
        'offset x can be 0 to 28, offset y 0 to 0',
    );
    expect(outpaintProblem(canvas({ offsetY: -1 }), MNIST, MNIST)).toMatch(/does not fit/);
    expect(outpaintProblem(canvas({ offsetX: 1.5 }), MNIST, MNIST)).toMatch(
      /offsets must be whole/,
    );
  });

  it('places the known image and its mask on the canvas; everything else is generated', () => {
    const known = { height: 2, width: 2, pixels: new Float32Array([0.1, 0.2, 0.3, 0.4]) };
    const o: OutpaintSettings = { height: 3, width: 4, offsetY: 1, offsetX: 2 };
    const tiny = { height: 2, width: 2, channels: 1 };
    const kept = placeKnownImage(o, tiny, { ...known, mask: null });
    expect(Array.from(kept.mask)).toEqual([1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0]);
    expect(Array.from(kept.pixels)).toEqual(
      [0, 0, 0, 0, 0, 0, 0.1, 0.2, 0, 0, 0.3, 0.4].map(Math.fround),
    );
    // The source editor's own mask still re-imagines its painted part of the known image.
    const painted = placeKnownImage(o, tiny, { ...known, mask: new Float32Array([0, 1, 0.5, 0]) });
    expect(Array.from(painted.mask)).toEqual([1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0.5, 0]);
    expect(() => placeKnownImage({ ...o, offsetX: 3 }, tiny, { ...known, mask: null })).toThrow(
      'does not fit',
    );
  });
});
