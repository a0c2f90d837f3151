// Uploads that declare a huge picture in a small file are refused from their header, before
// the browser decodes them; ordinary pictures pass. Headers are built byte by byte here, and one
// real PNG from docs/ checks the reader against a file a real encoder wrote.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  MAX_UPLOAD_PIXELS,
  declaredImageSize,
  declaredSizeProblem,
} from '../../src/source/imageHeader';

const u32be = (v: number) => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const u16le = (v: number) => [v & 255, (v >> 8) & 255];
const u32le = (v: number) => [v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >>> 24) & 255];
const text = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

/** A PNG signature and IHDR claiming width x height (8-bit grey), then a tiny IDAT. */
function pngHeader(width: number, height: number): Uint8Array {
  const ihdr = [...u32be(width), ...u32be(height), 8, 0, 0, 0, 0];
  const idat = Array.from(deflateSync(Buffer.alloc(64)));
  return Uint8Array.from([
    0x89,
    ...text('PNG'),
    0x0d,
    0x0a,
    0x1a,
    0x0a,
    ...u32be(13),
    ...text('IHDR'),
    ...ihdr,
    0,
    0,
    0,
    0,
    ...u32be(idat.length),
    ...text('IDAT'),
    ...idat,
    0,
    0,
    0,
    0,
  ]);
}

describe('declared image sizes', () => {
  it('reads a real PNG written by an encoder', () => {
    const file = readFileSync(join(__dirname, '..', '..', 'docs', 'mnist-sheet.png'));
    const size = declaredImageSize(new Uint8Array(file));
    expect(size?.format).toBe('PNG');
    expect(size!.width).toBe(file.readUInt32BE(16));
    expect(size!.height).toBe(file.readUInt32BE(20));
    expect(size!.width).toBeGreaterThan(28);
  });

  it('reads PNG, GIF, BMP, WebP (VP8, VP8L, VP8X) and JPEG headers', () => {
    expect(declaredImageSize(pngHeader(30000, 20000))).toEqual({
      format: 'PNG',
      width: 30000,
      height: 20000,
    });
    const gif = Uint8Array.from([...text('GIF89a'), ...u16le(640), ...u16le(480), 0, 0, 0]);
    expect(declaredImageSize(gif)).toEqual({ format: 'GIF', width: 640, height: 480 });
    const bmp = new Uint8Array(54);
    bmp.set(text('BM'));
    bmp.set(u32le(1024), 18);
    bmp.set(u32le(-768 >>> 0), 22); // top-down rows: negative height
    expect(declaredImageSize(bmp)).toEqual({ format: 'BMP', width: 1024, height: 768 });

    const riff = (chunk: string, body: number[]) =>
      Uint8Array.from([...text('RIFF'), ...u32le(100), ...text('WEBP'), ...text(chunk), ...body]);
    // VP8: size after chunk length (4), frame tag (3) and start code (3).
    const vp8 = riff('VP8 ', [
      ...u32le(50),
      0,
      0,
      0,
      0x9d,
      0x01,
      0x2a,
      ...u16le(300),
      ...u16le(200),
    ]);
    expect(declaredImageSize(vp8)).toEqual({ format: 'WebP', width: 300, height: 200 });
    // VP8L: signature 0x2f, then 14-bit width-1 and height-1.
    const [w, h] = [4000 - 1, 3000 - 1];
    const bits = w | (h << 14);
    const vp8l = riff('VP8L', [...u32le(50), 0x2f, ...u32le(bits)]);
    expect(declaredImageSize(vp8l)).toEqual({ format: 'WebP', width: 4000, height: 3000 });
    const u24 = (v: number) => [v & 255, (v >> 8) & 255, (v >> 16) & 255];
    const vp8x = riff('VP8X', [...u32le(10), 0, 0, 0, 0, ...u24(16383), ...u24(9999)]);
    expect(declaredImageSize(vp8x)).toEqual({ format: 'WebP', width: 16384, height: 10000 });

    // JPEG: SOI, an APP0 segment, a DQT-like segment, then SOF2 (progressive) with the size.
    const jpeg = Uint8Array.from([
      0xff,
      0xd8,
      0xff,
      0xe0,
      0,
      16,
      ...text('JFIF'),
      0,
      1,
      1,
      0,
      0,
      1,
      0,
      1,
      0,
      0,
      0xff,
      0xdb,
      0,
      4,
      0,
      0,
      0xff,
      0xc2,
      0,
      11,
      8,
      ...[0x75, 0x30],
      ...[0x4e, 0x20],
      1,
      1,
      0x11,
      0,
    ]);
    expect(declaredImageSize(jpeg)).toEqual({ format: 'JPEG', width: 20000, height: 30000 });
  });

  it('gives up quietly on other or cut-short files (the decoder then decides)', () => {
    expect(declaredImageSize(new Uint8Array(0))).toBeNull();
    expect(declaredImageSize(Uint8Array.from(text('hello, not an image')))).toBeNull();
    expect(declaredImageSize(pngHeader(10, 10).subarray(0, 20))).toBeNull();
    expect(declaredImageSize(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 200]))).toBeNull();
    expect(
      declaredImageSize(Uint8Array.from([0xff, 0xd8, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0])),
    ).toBeNull();
  });

  it('refuses a picture over the limit with its size in the message', () => {
    expect(declaredSizeProblem('bomb.png', declaredImageSize(pngHeader(30000, 30000)))).toBe(
      'bomb.png is a PNG of 30000x30000 pixels (900 megapixels); pictures up to 64 megapixels can be used.',
    );
    const side = Math.floor(Math.sqrt(MAX_UPLOAD_PIXELS));
    expect(declaredSizeProblem('big.png', declaredImageSize(pngHeader(side, side)))).toBeNull();
    expect(declaredSizeProblem('x.png', declaredImageSize(pngHeader(side + 1, side + 1)))).toMatch(
      /^x\.png is a PNG of/,
    );
    expect(declaredSizeProblem('', null)).toBeNull();
  });
});
