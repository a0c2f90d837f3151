// A minimal PNG encoder for 8-bit grayscale images (colour type 0), Node only (node:zlib).
// Every row uses filter 0 (None); the IDAT stream is one zlib deflate of all rows.
import { deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309, the one PNG chunks use). */
export function crc32(bytes: Uint8Array, crc = 0xffffffff): number {
  let c = crc;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  out.set(data, 8);
  out.writeUInt32BE((crc32(out.subarray(4, 8 + data.length)) ^ 0xffffffff) >>> 0, 8 + data.length);
  return out;
}

/** `pixels`: width*height bytes, row-major, 0 black .. 255 white. */
export function encodeGrayPng(pixels: Uint8Array, width: number, height: number): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`PNG size must be positive whole numbers (got ${width}x${height})`);
  }
  if (pixels.length !== width * height) {
    throw new Error(`PNG ${width}x${height} needs ${width * height} bytes, got ${pixels.length}`);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // colour type: grayscale
  header[10] = 0; // compression: deflate
  header[11] = 0; // filter method 0
  header[12] = 0; // no interlace
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0; // filter type None
    raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  }
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** [-1, 1] floats to bytes: round((x + 1) * 127.5), clamped (training/data.py's inverse). */
export function toBytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Math.round((values[i] + 1) * 127.5);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : Number.isNaN(v) ? 0 : v;
  }
  return out;
}

/**
 * Tiles equally sized grayscale images into one: `rows` rows of `cols` cells with `gap` pixels
 * of `background` between them. Missing cells (images.length < rows*cols) stay background.
 */
export function contactSheet(
  images: Uint8Array[],
  size: { width: number; height: number },
  cols: number,
  rows: number,
  gap = 2,
  background = 128,
): { pixels: Uint8Array; width: number; height: number } {
  const width = cols * size.width + (cols + 1) * gap;
  const height = rows * size.height + (rows + 1) * gap;
  const pixels = new Uint8Array(width * height).fill(background);
  images.forEach((image, i) => {
    if (i >= rows * cols) return;
    const x0 = gap + (i % cols) * (size.width + gap);
    const y0 = gap + Math.floor(i / cols) * (size.height + gap);
    for (let y = 0; y < size.height; y++) {
      pixels.set(image.subarray(y * size.width, (y + 1) * size.width), (y0 + y) * width + x0);
    }
  });
  return { pixels, width, height };
}
