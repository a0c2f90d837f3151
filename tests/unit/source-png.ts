// A minimal PNG decoder for the tests: 8-bit grayscale or RGB, non-interlaced (what
// training/make_examples.py and training/emoji/make_emoji_examples.py write), with all five row
// filters. Node has zlib; no package needed.
import { inflateSync } from 'node:zlib';

export interface GrayPng {
  width: number;
  height: number;
  pixels: Uint8Array;
}

export interface Png extends GrayPng {
  /** Values per pixel in `pixels` (HWC): 1 grey, 3 RGB. */
  channels: 1 | 3;
}

export function decodePng(file: Buffer): Png {
  const signature = '89504e470d0a1a0a';
  if (file.subarray(0, 8).toString('hex') !== signature) throw new Error('not a PNG');
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels: 1 | 3 = 1;
  const idat: Buffer[] = [];
  while (offset < file.length) {
    const length = file.readUInt32BE(offset);
    const type = file.toString('ascii', offset + 4, offset + 8);
    const data = file.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [bitDepth, colourType, , , interlace] = data.subarray(8, 13);
      if (bitDepth !== 8 || (colourType !== 0 && colourType !== 2) || interlace !== 0) {
        throw new Error(`unsupported PNG: depth ${bitDepth}, colour ${colourType}`);
      }
      channels = colourType === 2 ? 3 : 1;
    } else if (type === 'IDAT') {
      idat.push(data);
    }
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const value = raw[y * (stride + 1) + 1 + x];
      // Filters predict from the same channel of the pixel to the left (bpp bytes back).
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[y * stride + x] = (value + predictor) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

export function decodeGrayPng(file: Buffer): GrayPng {
  const png = decodePng(file);
  if (png.channels !== 1) throw new Error('not a grayscale PNG');
  return png;
}
