// The Node-only PNG encoder of the command-line tools (scripts/lib/png.ts), checked by decoding
// its output by hand: signature, chunk CRCs, IHDR fields, and the inflated pixel rows.
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { contactSheet, crc32, encodeGrayPng, toBytes } from '../../scripts/lib/png';

interface Chunk {
  type: string;
  data: Buffer;
}

function readChunks(png: Buffer): Chunk[] {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunks: Chunk[] = [];
  let at = 8;
  while (at < png.length) {
    const length = png.readUInt32BE(at);
    const type = png.toString('ascii', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    const crc = png.readUInt32BE(at + 8 + length);
    expect(crc, `${type} CRC`).toBe((crc32(png.subarray(at + 4, at + 8 + length)) ^ -1) >>> 0);
    chunks.push({ type, data });
    at += 12 + length;
  }
  expect(at).toBe(png.length);
  return chunks;
}

function decodeGray(png: Buffer): { width: number; height: number; pixels: Uint8Array } {
  const chunks = readChunks(png);
  expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
  const ihdr = chunks[0].data;
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  // bit depth 8, grayscale, deflate, filter method 0, no interlace
  expect([...ihdr.subarray(8)]).toEqual([8, 0, 0, 0, 0]);
  const raw = inflateSync(chunks[1].data);
  expect(raw.length).toBe((width + 1) * height);
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (width + 1)], 'filter type None').toBe(0);
    pixels.set(raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1)), y * width);
  }
  return { width, height, pixels };
}

describe('encodeGrayPng', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32(Buffer.from('123456789', 'ascii')) ^ -1).toBe(0xcbf43926 | 0);
    // The IEND chunk's CRC is the same in every PNG file.
    const png = encodeGrayPng(new Uint8Array([7]), 1, 1);
    expect(png.subarray(png.length - 4).toString('hex')).toBe('ae426082');
  });

  it('round-trips the pixels of a non-square image', () => {
    const width = 5;
    const height = 3;
    const pixels = Uint8Array.from({ length: width * height }, (_, i) => (i * 37) % 256);
    const decoded = decodeGray(encodeGrayPng(pixels, width, height));
    expect(decoded.width).toBe(width);
    expect(decoded.height).toBe(height);
    expect([...decoded.pixels]).toEqual([...pixels]);
  });

  it('round-trips a 28x28 image with every byte value', () => {
    const pixels = Uint8Array.from({ length: 784 }, (_, i) => (i * 101) % 256);
    expect([...decodeGray(encodeGrayPng(pixels, 28, 28)).pixels]).toEqual([...pixels]);
  });

  it('refuses a pixel count that does not match the size', () => {
    expect(() => encodeGrayPng(new Uint8Array(10), 3, 3)).toThrow(/needs 9 bytes, got 10/);
    expect(() => encodeGrayPng(new Uint8Array(0), 0, 0)).toThrow(/positive/);
  });
});

describe('toBytes', () => {
  it('maps [-1, 1] to 0..255 with rounding and clamping', () => {
    expect([...toBytes([-1, 1, 0, -2, 2, NaN, 0.5])]).toEqual([0, 255, 128, 0, 255, 0, 191]);
  });
});

describe('contactSheet', () => {
  it('tiles images row by row with gaps of background', () => {
    const a = new Uint8Array([1, 2, 3, 4]);
    const b = new Uint8Array([5, 6, 7, 8]);
    const c = new Uint8Array([9, 9, 9, 9]);
    const sheet = contactSheet([a, b, c], { width: 2, height: 2 }, 2, 2, 1, 0);
    expect(sheet.width).toBe(7);
    expect(sheet.height).toBe(7);
    const row = (y: number) => [...sheet.pixels.subarray(y * 7, (y + 1) * 7)];
    expect(row(0)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(row(1)).toEqual([0, 1, 2, 0, 5, 6, 0]);
    expect(row(2)).toEqual([0, 3, 4, 0, 7, 8, 0]);
    expect(row(4)).toEqual([0, 9, 9, 0, 0, 0, 0]);
    expect(row(5)).toEqual([0, 9, 9, 0, 0, 0, 0]);
  });
});
