// PNG reading and writing for colour images, Node only (node:zlib). Decodes 8-bit grayscale,
// grey + alpha, RGB, RGBA and palette PNGs (non-interlaced, all five row filters) to RGB bytes,
// compositing any transparency on white (as the emoji data set was made); encodes 8-bit RGB.
import { deflateSync, inflateSync } from 'node:zlib';
import { crc32 } from './png';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface RgbImage {
  width: number;
  height: number;
  /** width * height * 3 bytes, row-major RGB. */
  rgb: Uint8Array;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export function decodePng(file: Uint8Array, name = 'PNG'): RgbImage {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.length < 8 || !buf.subarray(0, 8).equals(SIGNATURE))
    throw new Error(`${name} is not a PNG file`);
  let offset = 8;
  let width = 0;
  let height = 0;
  let colourType = -1;
  let palette: Buffer | null = null;
  let paletteAlpha: Buffer | null = null;
  const idat: Buffer[] = [];
  while (offset + 8 <= buf.length) {
    const length = buf.readUInt32BE(offset);
    const type = buf.toString('ascii', offset + 4, offset + 8);
    const data = buf.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const bitDepth = data[8];
      colourType = data[9];
      const interlace = data[12];
      if (bitDepth !== 8 || !(colourType in CHANNELS) || interlace !== 0) {
        throw new Error(
          `${name}: unsupported PNG (bit depth ${bitDepth}, colour type ${colourType}, interlace ${interlace}); use 8-bit non-interlaced`,
        );
      }
    } else if (type === 'PLTE') palette = data;
    else if (type === 'tRNS') paletteAlpha = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    offset += 12 + length;
  }
  if (!width || !height) throw new Error(`${name}: no IHDR chunk`);
  if (colourType === 3 && !palette) throw new Error(`${name}: palette PNG without PLTE`);
  const bpp = CHANNELS[colourType];
  const stride = width * bpp;
  const raw = inflateSync(Buffer.concat(idat));
  if (raw.length < (stride + 1) * height) throw new Error(`${name}: image data is truncated`);
  const px = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const value = raw[y * (stride + 1) + 1 + x];
      const a = x >= bpp ? px[y * stride + x - bpp] : 0;
      const b = y > 0 ? px[(y - 1) * stride + x] : 0;
      const c = x >= bpp && y > 0 ? px[(y - 1) * stride + x - bpp] : 0;
      let p = 0;
      if (filter === 1) p = a;
      else if (filter === 2) p = b;
      else if (filter === 3) p = (a + b) >> 1;
      else if (filter === 4) {
        const q = a + b - c;
        const pa = Math.abs(q - a);
        const pb = Math.abs(q - b);
        const pc = Math.abs(q - c);
        p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) throw new Error(`${name}: unknown row filter ${filter}`);
      px[y * stride + x] = (value + p) & 0xff;
    }
  }
  const rgb = new Uint8Array(width * height * 3);
  // Alpha composited on white: out = a * c + (1 - a) * 255, rounded.
  const over = (c: number, alpha: number) => Math.round((alpha * c + (255 - alpha) * 255) / 255);
  for (let i = 0; i < width * height; i++) {
    let r: number;
    let g: number;
    let b: number;
    let alpha = 255;
    if (colourType === 0 || colourType === 4) {
      r = g = b = px[i * bpp];
      if (colourType === 4) alpha = px[i * bpp + 1];
    } else if (colourType === 2 || colourType === 6) {
      r = px[i * bpp];
      g = px[i * bpp + 1];
      b = px[i * bpp + 2];
      if (colourType === 6) alpha = px[i * bpp + 3];
    } else {
      const k = px[i];
      const pal = palette as Buffer;
      if (3 * k + 2 >= pal.length) throw new Error(`${name}: palette index ${k} out of range`);
      r = pal[3 * k];
      g = pal[3 * k + 1];
      b = pal[3 * k + 2];
      if (paletteAlpha && k < paletteAlpha.length) alpha = paletteAlpha[k];
    }
    rgb[3 * i] = over(r, alpha);
    rgb[3 * i + 1] = over(g, alpha);
    rgb[3 * i + 2] = over(b, alpha);
  }
  return { width, height, rgb };
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  out.set(data, 8);
  out.writeUInt32BE((crc32(out.subarray(4, 8 + data.length)) ^ 0xffffffff) >>> 0, 8 + data.length);
  return out;
}

/** 8-bit RGB PNG (colour type 2), filter 0 on every row. */
export function encodeRgbPng(rgb: Uint8Array, width: number, height: number): Buffer {
  if (rgb.length !== width * height * 3)
    throw new Error(
      `RGB PNG ${width}x${height} needs ${width * height * 3} bytes, got ${rgb.length}`,
    );
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = 2;
  const stride = width * 3;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++)
    raw.set(rgb.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
