// A GIF89a encoder in plain TypeScript (no DOM): one global colour table, a graphic control
// extension with each frame's delay, the NETSCAPE2.0 extension for looping, and LZW image data
// in sub-blocks of at most 255 bytes. GifWriter takes one frame at a time, so a caller can yield
// between frames; encodeGif is the whole thing as one pure function.
import { lzwEncode } from './gifLzw';
import {
  checkImage,
  isGray,
  paletteColours,
  paletteIndices,
  type GifImage,
  type PaletteKind,
} from './gifPalette';

export type { GifImage, PaletteKind };

/** Indices are 8-bit: a 256-entry table and LZW's minimum code size 8. */
const MIN_CODE_SIZE = 8;

export interface GifOptions {
  /** How many times to play; 0 = forever (the default). */
  loop?: number;
  /** Colour table; by default gray when every frame is gray, else the 6×7×6 colour cube. */
  palette?: PaletteKind;
}

/** Growable byte buffer. */
class ByteSink {
  private bytes = new Uint8Array(4096);
  length = 0;

  byte(value: number): void {
    this.reserve(1);
    this.bytes[this.length++] = value & 0xff;
  }

  /** 16-bit little endian, as every GIF number is. */
  word(value: number): void {
    this.byte(value);
    this.byte(value >>> 8);
  }

  ascii(text: string): void {
    for (let i = 0; i < text.length; i++) this.byte(text.charCodeAt(i));
  }

  append(data: Uint8Array): void {
    this.reserve(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  result(): Uint8Array<ArrayBuffer> {
    return this.bytes.slice(0, this.length);
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
}

/** GIF delays are in hundredths of a second; browsers treat 0 or 1 as "fast" and slow it to 10. */
export function delayCentiseconds(delayMs: number): number {
  if (!Number.isFinite(delayMs) || delayMs < 0) {
    throw new Error(`A frame delay must be a non-negative number of ms, got ${delayMs}`);
  }
  return Math.min(0xffff, Math.max(2, Math.round(delayMs / 10)));
}

export class GifWriter {
  private readonly sink = new ByteSink();
  private frames = 0;
  private finished = false;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly palette: PaletteKind,
    loop = 0,
  ) {
    checkImage(
      { width, height, format: 'gray', pixels: new Uint8Array(width * height) },
      'GIF screen',
    );
    if (!Number.isInteger(loop) || loop < 0 || loop > 0xffff) {
      throw new Error(`Loop count must be 0 (forever) to 65535, got ${loop}`);
    }
    const s = this.sink;
    s.ascii('GIF89a');
    // Logical screen: global table present, 8 bits of colour resolution, 2^(7+1) entries.
    s.word(width);
    s.word(height);
    s.byte(0x80 | (7 << 4) | 7);
    s.byte(0); // background colour index
    s.byte(0); // no aspect ratio
    s.append(paletteColours(palette));
    // NETSCAPE2.0 application extension: sub-block id 1, then the loop count.
    s.byte(0x21);
    s.byte(0xff);
    s.byte(11);
    s.ascii('NETSCAPE2.0');
    s.byte(3);
    s.byte(1);
    s.word(loop);
    s.byte(0);
  }

  get frameCount(): number {
    return this.frames;
  }

  addFrame(image: GifImage, delayMs: number): void {
    if (this.finished) throw new Error('This GIF is already finished');
    checkImage(image, `Frame ${this.frames}`);
    if (image.width !== this.width || image.height !== this.height) {
      throw new Error(
        `Frame ${this.frames} is ${image.width}×${image.height}; ` +
          `the GIF is ${this.width}×${this.height}`,
      );
    }
    const s = this.sink;
    // Graphic control extension: disposal 1 (leave the frame in place), no transparency.
    s.byte(0x21);
    s.byte(0xf9);
    s.byte(4);
    s.byte(1 << 2);
    s.word(delayCentiseconds(delayMs));
    s.byte(0);
    s.byte(0);
    // Image descriptor: the whole screen, no local table, not interlaced.
    s.byte(0x2c);
    s.word(0);
    s.word(0);
    s.word(this.width);
    s.word(this.height);
    s.byte(0);
    s.byte(MIN_CODE_SIZE);
    const data = lzwEncode(paletteIndices(image, this.palette), MIN_CODE_SIZE);
    for (let at = 0; at < data.length; at += 255) {
      const block = data.subarray(at, Math.min(data.length, at + 255));
      s.byte(block.length);
      s.append(block);
    }
    s.byte(0);
    this.frames++;
  }

  /** The trailer; the file's bytes. */
  finish(): Uint8Array<ArrayBuffer> {
    if (this.frames === 0) throw new Error('A GIF needs at least one frame');
    if (!this.finished) this.sink.byte(0x3b);
    this.finished = true;
    return this.sink.result();
  }
}

/** Encodes frames (all the same size) with their delays in milliseconds. */
export function encodeGif(
  images: readonly GifImage[],
  delaysMs: readonly number[],
  options: GifOptions = {},
): Uint8Array {
  if (images.length === 0) throw new Error('A GIF needs at least one frame');
  if (delaysMs.length !== images.length) {
    throw new Error(`${images.length} frames but ${delaysMs.length} delays`);
  }
  const palette = options.palette ?? (images.every(isGray) ? 'gray' : 'rgb676');
  const writer = new GifWriter(images[0].width, images[0].height, palette, options.loop ?? 0);
  images.forEach((image, i) => writer.addFrame(image, delaysMs[i]));
  return writer.finish();
}
