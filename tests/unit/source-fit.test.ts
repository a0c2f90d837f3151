import { describe, expect, it } from 'vitest';
import { borderMean, fitToSquare, resizeArea } from '../../src/source/fitImage';
import { bytesToSigned, rgbaToGray, signedToByte } from '../../src/source/pixels';

describe('pixel conversions', () => {
  it('maps bytes to [-1, 1] and back exactly', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const signed = bytesToSigned(bytes);
    expect(signed[0]).toBe(-1);
    expect(signed[255]).toBe(1);
    expect(Array.from(signed, signedToByte)).toEqual(Array.from(bytes));
    expect(signedToByte(3)).toBe(255);
    expect(signedToByte(-3)).toBe(0);
  });

  it('takes luminance over black, so transparency reads as background', () => {
    const rgba = [255, 255, 255, 255, 255, 0, 0, 255, 255, 255, 255, 0, 0, 0, 255, 128];
    const gray = rgbaToGray(rgba, 4, 1);
    expect(gray[0]).toBeCloseTo(1, 6);
    expect(gray[1]).toBeCloseTo(0.299, 6);
    expect(gray[2]).toBe(0);
    expect(gray[3]).toBeCloseTo(0.114 * (128 / 255), 6);
  });
});

describe('area resize', () => {
  it('averages 2x2 blocks when halving', () => {
    const gray = Float32Array.from([0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1]);
    expect(Array.from(resizeArea(gray, 4, 4, 2, 2))).toEqual([0.75, 0, 0, 1]);
  });

  it('keeps the mean brightness for a non-integer ratio', () => {
    const width = 97;
    const height = 61;
    const gray = Float32Array.from({ length: width * height }, (_, i) => ((i * 7919) % 101) / 100);
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    const out = resizeArea(gray, width, height, 28, 18);
    expect(mean(out)).toBeCloseTo(mean(gray), 4);
  });

  it('a thin line survives downscaling as a faint line (not dropped)', () => {
    const width = 280;
    const gray = new Float32Array(width * width);
    for (let x = 0; x < width; x++) gray[140 * width + x] = 1; // one-pixel line, 10x too thin
    const out = resizeArea(gray, width, width, 28, 28);
    expect(out[14 * 28 + 5]).toBeCloseTo(0.1, 5);
    expect(out[13 * 28 + 5]).toBe(0);
  });
});

describe('fit to 28x28', () => {
  it('keeps the aspect ratio and centres a wide image with black padding', () => {
    const width = 56;
    const height = 14;
    const gray = new Float32Array(width * height).fill(0.25); // dark background: not inverted
    const fit = fitToSquare(gray, width, height);
    expect(fit.placed).toEqual({ x: 0, y: 10, width: 28, height: 7 });
    expect(fit.inverted).toBe(false);
    expect(fit.gray[0]).toBe(0);
    expect(fit.gray[10 * 28]).toBeCloseTo(0.25, 6);
    expect(fit.gray[16 * 28 + 27]).toBeCloseTo(0.25, 6);
    expect(fit.gray[17 * 28]).toBe(0);
  });

  it('inverts dark ink on a light page so strokes come out light on black', () => {
    const size = 100;
    const gray = new Float32Array(size * size).fill(1);
    for (let y = 20; y < 80; y++) gray[y * size + 50] = 0; // dark vertical stroke
    const fit = fitToSquare(gray, size, size);
    expect(fit.inverted).toBe(true);
    expect(fit.gray[0]).toBe(0); // background now black
    expect(fit.gray[14 * 28 + 14]).toBeGreaterThan(0.2); // stroke now light
  });

  it('upscales a tiny image to fill the square', () => {
    const fit = fitToSquare(Float32Array.from([0, 0.5, 0.5, 0]), 2, 2);
    expect(fit.placed).toEqual({ x: 0, y: 0, width: 28, height: 28 });
    expect(fit.gray[0]).toBe(0);
    expect(fit.gray[27]).toBeCloseTo(0.5, 6);
  });

  it('refuses an empty or inconsistent image', () => {
    expect(() => fitToSquare(new Float32Array(0), 0, 0)).toThrow(/empty/);
    expect(() => fitToSquare(new Float32Array(3), 2, 2)).toThrow(/pixels/);
  });

  it('border mean is the mean of the outer ring', () => {
    const gray = Float32Array.from([1, 1, 1, 1, 0, 1, 1, 1, 1]);
    expect(borderMean(gray, 3, 3)).toBe(1);
  });
});
