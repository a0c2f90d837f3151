import { describe, expect, it } from 'vitest';
import { PIXEL_COUNT } from '../../src/source/grid';
import {
  STORAGE_KEY,
  base64ToFloat32,
  decodeSaved,
  encodeSaved,
  float32ToBase64,
  loadSaved,
  writeSaved,
  type SavedSource,
} from '../../src/source/persist';

function sample(): SavedSource {
  const pixels = Float32Array.from({ length: PIXEL_COUNT }, (_, i) => ((i % 17) / 8 - 1) * 0.999);
  const paintedMask = Float32Array.from({ length: PIXEL_COUNT }, (_, i) => (i < 392 ? 1 : 0));
  return {
    geometry: { size: 28, channels: 1 },
    mode: 'inpaint',
    strength: 0.35,
    feather: 1.5,
    brushSize: 5,
    tool: 'eraser',
    pixels,
    paintedMask,
    sourceLabel: 'MNIST test #3 (0)',
    brushColour: '#336699',
  };
}

class MemoryStorage {
  data = new Map<string, string>();
  failWrites = false;
  getItem(key: string) {
    return this.data.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    if (this.failWrites) throw new DOMException('quota', 'QuotaExceededError');
    this.data.set(key, value);
  }
  removeItem(key: string) {
    this.data.delete(key);
  }
}

describe('saving the source and mask', () => {
  it('round-trips every field bit-exactly', () => {
    const saved = sample();
    const back = decodeSaved(encodeSaved(saved));
    expect(back.mode).toBe('inpaint');
    expect(back.strength).toBe(0.35);
    expect(back.feather).toBe(1.5);
    expect(back.brushSize).toBe(5);
    expect(back.tool).toBe('eraser');
    expect(back.sourceLabel).toBe('MNIST test #3 (0)');
    expect(Array.from(back.pixels!)).toEqual(Array.from(saved.pixels!));
    expect(Array.from(back.paintedMask!)).toEqual(Array.from(saved.paintedMask!));
  });

  it('float32 base64 round-trips special values and rejects bad text', () => {
    const values = Float32Array.from([0, -0, 1e-38, -1, 3.4e38]);
    expect(Array.from(base64ToFloat32(float32ToBase64(values))!)).toEqual(Array.from(values));
    expect(base64ToFloat32('not base64 %%%')).toBeNull();
    expect(base64ToFloat32('AAA=')).toBeNull(); // 2 bytes: not whole floats
    expect(base64ToFloat32(42)).toBeNull();
  });

  it('ignores garbage without throwing', () => {
    expect(decodeSaved(null)).toEqual({});
    expect(decodeSaved('')).toEqual({});
    expect(decodeSaved('{not json')).toEqual({});
    expect(decodeSaved('null')).toEqual({});
    expect(decodeSaved('[1,2]')).toEqual({});
  });

  it('drops each field that is invalid and keeps the rest', () => {
    const good = JSON.parse(encodeSaved(sample()));
    const wrongSize = float32ToBase64(new Float32Array(100));
    const outOfRange = float32ToBase64(new Float32Array(PIXEL_COUNT).fill(2));
    const withNaN = new Float32Array(PIXEL_COUNT);
    withNaN[7] = NaN;
    const bad = {
      ...good,
      mode: 'outpaint',
      strength: 1.5,
      feather: -1,
      brushSize: 3.5,
      tool: 'spray',
      pixels: wrongSize,
      paintedMask: outOfRange,
      sourceLabel: 'x'.repeat(500),
      geometry: { size: 28, channels: 2 },
      brushColour: 'red',
    };
    expect(decodeSaved(JSON.stringify(bad))).toEqual({});
    const partly = decodeSaved(
      JSON.stringify({ ...good, pixels: float32ToBase64(withNaN), strength: '0.5' }),
    );
    expect(partly.pixels).toBeUndefined();
    expect(partly.strength).toBeUndefined();
    expect(partly.mode).toBe('inpaint');
    expect(partly.paintedMask).toHaveLength(PIXEL_COUNT);
  });

  it('writes to and reads from a storage, surviving a storage that throws', () => {
    const storage = new MemoryStorage();
    expect(writeSaved(storage, sample())).toBe(true);
    expect(storage.data.has(STORAGE_KEY)).toBe(true);
    expect(loadSaved(storage).brushSize).toBe(5);
    storage.failWrites = true;
    expect(writeSaved(storage, sample())).toBe(false);
    expect(writeSaved(null, sample())).toBe(false);
    expect(loadSaved(null)).toEqual({});
    const throwing = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => undefined,
      removeItem: () => undefined,
    };
    expect(loadSaved(throwing)).toEqual({});
  });
});

describe('saved geometry', () => {
  it('round-trips a 32x32 colour source, its mask and the brush colour', () => {
    const geometry = { size: 32, channels: 3 as const };
    const pixels = Float32Array.from({ length: 32 * 32 * 3 }, (_, i) => ((i % 7) / 3 - 1) * 0.9);
    const paintedMask = Float32Array.from({ length: 32 * 32 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const back = decodeSaved(encodeSaved({ ...sample(), geometry, pixels, paintedMask }));
    expect(back.geometry).toEqual(geometry);
    expect(Array.from(back.pixels!)).toEqual(Array.from(pixels));
    expect(Array.from(back.paintedMask!)).toEqual(Array.from(paintedMask));
    expect(back.brushColour).toBe('#336699');
  });

  it('reads a record saved before geometry was stored as 28x28 grey', () => {
    const old = JSON.parse(encodeSaved(sample()));
    delete old.geometry;
    delete old.brushColour;
    const back = decodeSaved(JSON.stringify(old));
    expect(back.geometry).toEqual({ size: 28, channels: 1 });
    expect(back.pixels).toHaveLength(PIXEL_COUNT);
    expect(back.paintedMask).toHaveLength(PIXEL_COUNT);
    expect(back.brushColour).toBeUndefined();
  });

  it('drops an image or mask that does not have the size its record states', () => {
    const record = JSON.parse(encodeSaved(sample()));
    const claimsColour = decodeSaved(
      JSON.stringify({ ...record, geometry: { size: 32, channels: 3 } }),
    );
    expect(claimsColour.geometry).toEqual({ size: 32, channels: 3 });
    expect(claimsColour.pixels).toBeUndefined();
    expect(claimsColour.paintedMask).toBeUndefined();
    expect(claimsColour.mode).toBe('inpaint');
    for (const geometry of [{ size: 9999, channels: 1 }, { size: 28 }, 'big', null]) {
      const back = decodeSaved(JSON.stringify({ ...record, geometry }));
      expect(back.geometry).toBeUndefined();
      expect(back.pixels).toBeUndefined();
    }
  });
});
