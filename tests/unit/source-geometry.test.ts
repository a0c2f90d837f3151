// Sources at the loaded model's geometry (28x28 grey, 32x32 colour) and the conversions between
// them: what the person made survives a change of model.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  convertChannels,
  convertMask,
  convertPixels,
  resizeBilinear,
  resizeImage,
  resizeMask,
} from '../../src/source/convert';
import { fitUpload } from '../../src/source/decodeUpload';
import { geometryOfLength, geometryOfModel } from '../../src/source/geometry';
import { drawSegment, maskedCount } from '../../src/source/mask';
import { blankSource, hexToSigned } from '../../src/source/pixels';
import { imageToRgba, maskOverlayRgba } from '../../src/source/render';
import { useSourceStore } from '../../src/state/sourceStore';

const GREY = { size: 28, channels: 1 as const };
const COLOUR = { size: 32, channels: 3 as const };
const mean = (values: ArrayLike<number>) =>
  Array.from(values).reduce((a, b) => a + b, 0) / values.length;

describe('geometry', () => {
  it('follows the model and reads a square grey or RGB image from its length', () => {
    expect(geometryOfModel({ imageSize: 32, channels: 3 })).toEqual(COLOUR);
    expect(geometryOfModel(null)).toEqual(GREY);
    expect(geometryOfModel({ imageSize: 32, channels: 4 }, COLOUR)).toEqual(COLOUR);
    expect(geometryOfLength(784)).toEqual(GREY);
    expect(geometryOfLength(3072)).toEqual(COLOUR);
    expect(geometryOfLength(28 * 28 * 3)).toEqual({ size: 28, channels: 3 });
    expect(geometryOfLength(10)).toBeNull();
  });
});

describe('conversions', () => {
  it('grey to RGB replicates; RGB to grey is Rec. 601 luminance', () => {
    const grey = Float32Array.from([-1, 0.5]);
    expect(Array.from(convertChannels(grey, 1, 3))).toEqual([-1, -1, -1, 0.5, 0.5, 0.5]);
    const rgb = Float32Array.from([1, -1, -1, -1, 1, -1, -1, -1, 1, 1, 1, 1]);
    const back = convertChannels(rgb, 3, 1);
    expect(back[0]).toBeCloseTo(0.299 * 2 - 1, 5);
    expect(back[1]).toBeCloseTo(0.587 * 2 - 1, 5);
    expect(back[2]).toBeCloseTo(0.114 * 2 - 1, 5);
    expect(back[3]).toBeCloseTo(1, 6);
  });

  it('bilinear growth keeps a constant, an edge in place and stays in range', () => {
    const flat = new Float32Array(28 * 28).fill(0.25);
    expect(resizeBilinear(flat, 28, 32).every((v) => Math.abs(v - 0.25) < 1e-6)).toBe(true);
    // Left half black, right half white: the edge stays at the middle of the larger image.
    const half = Float32Array.from({ length: 28 * 28 }, (_, i) => (i % 28 < 14 ? -1 : 1));
    const grown = resizeImage(half, 28, 1, 32);
    expect(grown[5 * 32 + 0]).toBe(-1);
    expect(grown[5 * 32 + 31]).toBe(1);
    expect(grown[5 * 32 + 14]).toBeLessThan(0);
    expect(grown[5 * 32 + 17]).toBeGreaterThan(0);
    expect(grown.every((v) => v >= -1 && v <= 1)).toBe(true);
  });

  it('area shrinking keeps the mean of each channel', () => {
    const rgb = Float32Array.from({ length: 32 * 32 * 3 }, (_, i) => Math.sin(i * 0.37) * 0.9);
    const small = resizeImage(rgb, 32, 3, 28);
    expect(small).toHaveLength(28 * 28 * 3);
    for (let c = 0; c < 3; c++) {
      const inMean = mean(rgb.filter((_, i) => i % 3 === c));
      const outMean = mean(small.filter((_, i) => i % 3 === c));
      expect(outMean).toBeCloseTo(inMean, 4);
    }
  });

  it('a 28x28 grey source becomes a 32x32 RGB image and back, close to where it began', () => {
    const digit = Float32Array.from({ length: 784 }, (_, i) => {
      const x = i % 28;
      const y = Math.floor(i / 28);
      return Math.hypot(x - 13.5, y - 13.5) < 8 ? 1 : -1;
    });
    const colour = convertPixels(digit, GREY, COLOUR);
    expect(colour).toHaveLength(3072);
    // Grey replicated: every pixel has R = G = B.
    for (let p = 0; p < 1024; p++) {
      expect(colour[3 * p]).toBe(colour[3 * p + 1]);
      expect(colour[3 * p]).toBe(colour[3 * p + 2]);
    }
    const back = convertPixels(colour, COLOUR, GREY);
    expect(back).toHaveLength(784);
    const error = mean(digit.map((v, i) => Math.abs(v - back[i])));
    expect(error).toBeLessThan(0.12);
  });

  it('a mask is resized by nearest neighbour: still 0 or 1, about the same share', () => {
    const mask = Float32Array.from({ length: 784 }, (_, i) => (i % 28 < 10 ? 1 : 0));
    const big = resizeMask(mask, 28, 32);
    expect(big.every((v) => v === 0 || v === 1)).toBe(true);
    expect(maskedCount(big) / 1024).toBeCloseTo(10 / 28, 1);
    expect(Array.from(convertMask(big, COLOUR, GREY))).toEqual(Array.from(mask));
    expect(() => convertMask(mask, COLOUR, GREY)).toThrow(/mask/);
  });
});

describe('colour drawing, rendering and uploads', () => {
  it('a blank colour canvas is white; the pen lays its colour by coverage', () => {
    const canvas = blankSource(COLOUR);
    expect(canvas.every((v) => v === 1)).toBe(true);
    expect(blankSource(GREY).every((v) => v === -1)).toBe(true);
    const red = hexToSigned('#ff0000')!;
    expect(red).toEqual([1, -1, -1]);
    const drawn = drawSegment(canvas, { x: 4, y: 10 }, { x: 28, y: 10 }, 2, red);
    const p = 3 * (10 * 32 + 16);
    expect(Array.from(drawn.subarray(p, p + 3))).toEqual([1, -1, -1]);
    const far = 3 * (20 * 32 + 16);
    expect(Array.from(drawn.subarray(far, far + 3))).toEqual([1, 1, 1]);
    expect(hexToSigned('red')).toBeNull();
  });

  it('RGB sources render in colour, under the mask tint too', () => {
    const rgb = Float32Array.from([1, -1, -1, -1, -1, 1]);
    expect(Array.from(imageToRgba(rgb, 2))).toEqual([255, 0, 0, 255, 0, 0, 255, 255]);
    expect(Array.from(imageToRgba(Float32Array.from([0]), 1))).toEqual([128, 128, 128, 255]);
    const tinted = maskOverlayRgba(rgb, Float32Array.from([0, 1]));
    expect(Array.from(tinted.subarray(0, 4))).toEqual([255, 0, 0, 255]);
    expect(tinted[4]).toBeGreaterThan(100); // blue pixel turned towards the mask's red
  });

  it('an upload for the colour model keeps colour and is fitted on white, not inverted', () => {
    // 64x32 picture: pure red on a white background with a transparent right half.
    const width = 64;
    const height = 32;
    const data = new Uint8ClampedArray(width * height * 4);
    for (let i = 0; i < width * height; i++) {
      const x = i % width;
      data.set(x < 32 ? [255, 0, 0, 255] : [0, 0, 0, 0], 4 * i);
    }
    const colour = fitUpload({ data, width, height }, COLOUR);
    expect(colour.pixels).toHaveLength(3072);
    expect(colour.fitted).toMatch(/32x16 on white/);
    const at = (x: number, y: number) =>
      Array.from(colour.pixels.subarray(3 * (y * 32 + x), 3 * (y * 32 + x) + 3));
    expect(at(0, 0)).toEqual([1, 1, 1]); // padding above: white
    expect(at(4, 16)).toEqual([1, -1, -1]); // the red half, kept red
    expect(at(28, 16)).toEqual([1, 1, 1]); // transparent over white
    const grey = fitUpload({ data, width, height }, GREY);
    expect(grey.pixels).toHaveLength(784);
  });
});

describe('the store follows the model geometry', () => {
  const store = () => useSourceStore.getState();
  const initial = useSourceStore.getState();
  beforeEach(() => useSourceStore.setState(initial, true));

  function paintSome() {
    store().setTool('brush');
    store().setBrushSize(4);
    store().beginStroke();
    store().strokeTo({ x: 4, y: 4 }, { x: 20, y: 4 });
  }

  it('converts source, mask and undo history, and restores them exactly on the way back', () => {
    const digit = Float32Array.from({ length: 784 }, (_, i) => (i % 5) / 2.5 - 0.9);
    store().setSource(digit, 'MNIST test #3 (0)');
    paintSome();
    const painted = maskedCount(store().paintedMask);
    const version = store().sourceVersion;
    store().setGeometry(COLOUR);
    expect(store().geometry).toEqual(COLOUR);
    expect(store().pixels).toHaveLength(3072);
    expect(store().mask).toHaveLength(1024);
    expect(store().sourceVersion).toBe(version + 1);
    expect(maskedCount(store().paintedMask) / 1024).toBeCloseTo(painted / 784, 1);
    expect(store().sourceLabel).toBe('MNIST test #3 (0)');
    // Undo steps were converted too: undoing the stroke gives a 32x32 empty mask.
    store().undo();
    expect(store().mask).toHaveLength(1024);
    expect(maskedCount(store().mask)).toBe(0);
    store().redo();
    // Back to grey without an edit in between: the original, bit for bit.
    store().setGeometry(GREY);
    expect(Array.from(store().pixels!)).toEqual(Array.from(digit));
    expect(maskedCount(store().paintedMask)).toBe(painted);
  });

  it('after an edit at the new geometry the way back converts (the edit is kept)', () => {
    store().setSource(new Float32Array(784).fill(-1), 'Drawing');
    store().setGeometry(COLOUR);
    store().fillMask();
    store().setGeometry(GREY);
    expect(store().pixels).toHaveLength(784);
    expect(maskedCount(store().mask)).toBe(784);
  });

  it('setSource converts an image of another geometry and says so', () => {
    store().setGeometry(COLOUR);
    store().setSource(new Float32Array(784).fill(0.5), 'MNIST test #3 (0)');
    expect(store().pixels).toHaveLength(3072);
    expect(store().pixels!.every((v) => Math.abs(v - 0.5) < 1e-6)).toBe(true);
    expect(store().sourceNote).toMatch(/converted from 28×28 grey to 32×32 colour/);
    store().setSource(new Float32Array(3072).fill(0), 'Generated image 1', null, COLOUR);
    expect(store().sourceNote).toBeNull();
    store().setSource(new Float32Array(10), 'bad');
    expect(store().error).toMatch(/3072 values in \[-1, 1\] \(32×32 colour\)/);
    expect(store().sourceLabel).toBe('Generated image 1');
  });

  it('a new colour drawing is white and the pen draws in the brush colour', () => {
    store().setGeometry(COLOUR);
    store().setBrushColour('#0000FF');
    expect(store().brushColour).toBe('#0000ff');
    store().setBrushColour('blue');
    expect(store().brushColour).toBe('#0000ff');
    store().startDrawing();
    expect(store().tool).toBe('draw');
    expect(store().pixels!.every((v) => v === 1)).toBe(true);
    store().setBrushSize(2);
    store().beginStroke();
    store().strokeTo({ x: 5, y: 5 }, { x: 20, y: 5 });
    const p = 3 * (5 * 32 + 10);
    expect(Array.from(store().pixels!.subarray(p, p + 3))).toEqual([-1, -1, 1]);
  });

  it('the default brush colour is black (black on white)', () => {
    expect(initial.brushColour).toBe('#000000');
  });
});
