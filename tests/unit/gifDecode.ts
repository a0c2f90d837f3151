// A GIF decoder for the tests, written from the GIF89a spec independently of the encoder: block
// structure, colour tables, graphic control and NETSCAPE2.0 extensions, and LZW with variable
// code sizes, clear codes and the 4096-code table (a full table is frozen until a clear code, as
// decoders must allow). Non-interlaced images only (the encoder never interlaces).

export interface DecodedFrame {
  left: number;
  top: number;
  width: number;
  height: number;
  /** Hundredths of a second, from the graphic control extension before the image. */
  delayCs: number | null;
  disposal: number | null;
  /** Colour table index per pixel. */
  indices: Uint8Array;
  /** The colours the indices stand for, RGB, 3 bytes per pixel. */
  rgb: Uint8Array;
  /** Clear codes met in this frame's LZW data (the first one included). */
  clearCodes: number;
  localTable: boolean;
}

export interface DecodedGif {
  version: string;
  width: number;
  height: number;
  globalTable: Uint8Array | null;
  /** From NETSCAPE2.0; null when there is no loop extension. */
  loopCount: number | null;
  frames: DecodedFrame[];
}

class Reader {
  at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  byte(): number {
    if (this.at >= this.bytes.length) throw new Error(`GIF ends early at byte ${this.at}`);
    return this.bytes[this.at++];
  }

  word(): number {
    const low = this.byte();
    return low | (this.byte() << 8);
  }

  take(n: number): Uint8Array {
    if (this.at + n > this.bytes.length) throw new Error(`GIF ends early at byte ${this.at}`);
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  ascii(n: number): string {
    return String.fromCharCode(...this.take(n));
  }

  /** Data sub-blocks up to the zero-length terminator, joined. */
  subBlocks(): Uint8Array {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let size = this.byte(); size !== 0; size = this.byte()) {
      parts.push(this.take(size));
      total += size;
    }
    const out = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}

function colourTable(reader: Reader, packed: number): Uint8Array {
  return reader.take(3 * (1 << ((packed & 7) + 1))).slice();
}

export function lzwDecode(
  data: Uint8Array,
  minCodeSize: number,
  pixelCount: number,
): { indices: Uint8Array; clearCodes: number } {
  if (minCodeSize < 2 || minCodeSize > 8) throw new Error(`LZW min code size ${minCodeSize}`);
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  const prefix = new Int32Array(4096);
  const suffix = new Uint8Array(4096);
  const first = new Uint8Array(4096);
  const lengths = new Int32Array(4096);
  for (let i = 0; i < clear; i++) {
    suffix[i] = first[i] = i;
    lengths[i] = 1;
  }
  const out = new Uint8Array(pixelCount);
  let written = 0;
  let codeSize = minCodeSize + 1;
  let next = end + 1;
  let previous = -1;
  let clearCodes = 0;
  let bitPos = 0;
  const totalBits = data.length * 8;

  const emit = (code: number) => {
    const length = lengths[code];
    if (written + length > pixelCount) throw new Error('LZW data holds more pixels than the image');
    for (let i = length - 1, c = code; i >= 0; i--, c = prefix[c]) out[written + i] = suffix[c];
    written += length;
  };

  for (;;) {
    if (bitPos + codeSize > totalBits) throw new Error('LZW data ends without an end code');
    let code = 0;
    for (let i = 0; i < codeSize; i++, bitPos++) {
      code |= ((data[bitPos >> 3] >> (bitPos & 7)) & 1) << i;
    }
    if (code === clear) {
      clearCodes++;
      codeSize = minCodeSize + 1;
      next = end + 1;
      previous = -1;
      continue;
    }
    if (code === end) break;
    if (previous === -1) {
      if (code >= clear) throw new Error(`LZW code ${code} right after a clear`);
      emit(code);
      previous = code;
      continue;
    }
    if (code > next || (code === next && next === 4096)) {
      throw new Error(`LZW code ${code} is not in the table (next ${next})`);
    }
    if (next < 4096) {
      // The new entry: the previous string plus the first symbol of this one (of itself, when
      // the code is the entry being made: the KwKwK case).
      prefix[next] = previous;
      suffix[next] = code === next ? first[previous] : first[code];
      first[next] = first[previous];
      lengths[next] = lengths[previous] + 1;
      next++;
      if (next === 1 << codeSize && codeSize < 12) codeSize++;
    }
    emit(code);
    previous = code;
  }
  if (written !== pixelCount) throw new Error(`LZW gave ${written} pixels, expected ${pixelCount}`);
  return { indices: out, clearCodes };
}

export function decodeGif(bytes: Uint8Array): DecodedGif {
  const r = new Reader(bytes);
  const version = r.ascii(6);
  if (version !== 'GIF89a' && version !== 'GIF87a') throw new Error(`not a GIF: "${version}"`);
  const width = r.word();
  const height = r.word();
  const packed = r.byte();
  r.byte(); // background colour index
  r.byte(); // aspect ratio
  const globalTable = packed & 0x80 ? colourTable(r, packed) : null;
  const gif: DecodedGif = { version, width, height, globalTable, loopCount: null, frames: [] };
  let delayCs: number | null = null;
  let disposal: number | null = null;

  for (;;) {
    const introducer = r.byte();
    if (introducer === 0x3b) break;
    if (introducer === 0x21) {
      const label = r.byte();
      if (label === 0xf9) {
        const body = r.subBlocks();
        if (body.length !== 4) throw new Error('graphic control extension is not 4 bytes');
        disposal = (body[0] >> 2) & 7;
        delayCs = body[1] | (body[2] << 8);
      } else if (label === 0xff) {
        const body = r.subBlocks();
        const id = String.fromCharCode(...body.subarray(0, 11));
        if (id === 'NETSCAPE2.0' && body[11] === 1) gif.loopCount = body[12] | (body[13] << 8);
      } else {
        r.subBlocks();
      }
      continue;
    }
    if (introducer !== 0x2c) throw new Error(`unknown block 0x${introducer.toString(16)}`);
    const left = r.word();
    const top = r.word();
    const w = r.word();
    const h = r.word();
    const imagePacked = r.byte();
    if (imagePacked & 0x40) throw new Error('interlaced images are not supported here');
    const localTable = (imagePacked & 0x80) !== 0;
    const table = localTable ? colourTable(r, imagePacked) : globalTable;
    if (!table) throw new Error('an image without a colour table');
    const minCodeSize = r.byte();
    const { indices, clearCodes } = lzwDecode(r.subBlocks(), minCodeSize, w * h);
    const rgb = new Uint8Array(w * h * 3);
    for (let i = 0; i < indices.length; i++) {
      if (indices[i] * 3 >= table.length) throw new Error(`index ${indices[i]} beyond the table`);
      rgb.set(table.subarray(indices[i] * 3, indices[i] * 3 + 3), i * 3);
    }
    gif.frames.push({
      left,
      top,
      width: w,
      height: h,
      delayCs,
      disposal,
      indices,
      rgb,
      clearCodes,
      localTable,
    });
    delayCs = null;
    disposal = null;
  }
  if (r.at !== bytes.length) throw new Error(`${bytes.length - r.at} bytes after the trailer`);
  return gif;
}
