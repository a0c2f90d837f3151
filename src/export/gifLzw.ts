// GIF's variable-code-size LZW (GIF89a spec, appendix F), as the encoder side. Codes are packed
// least-significant bit first. The table holds at most 4096 codes; when it is full a clear code
// is sent and the table starts again, so decoders never have to run with a frozen table.

const MAX_CODES = 4096;

/** Packs codes of varying width into bytes, least-significant bit first. */
class BitPacker {
  private bytes = new Uint8Array(1024);
  private length = 0;
  private acc = 0;
  private bits = 0;

  write(code: number, width: number): void {
    this.acc |= code << this.bits;
    this.bits += width;
    while (this.bits >= 8) {
      this.push(this.acc & 0xff);
      this.acc >>>= 8;
      this.bits -= 8;
    }
  }

  finish(): Uint8Array {
    if (this.bits > 0) this.push(this.acc & 0xff);
    this.acc = 0;
    this.bits = 0;
    return this.bytes.slice(0, this.length);
  }

  private push(byte: number): void {
    if (this.length === this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes[this.length++] = byte;
  }
}

/**
 * LZW-compresses colour indices (each below 2^minCodeSize) into GIF's code stream: a clear code
 * first, a clear code whenever the table fills, and the end-of-information code last.
 */
export function lzwEncode(indices: Uint8Array, minCodeSize: number): Uint8Array {
  if (!Number.isInteger(minCodeSize) || minCodeSize < 2 || minCodeSize > 8) {
    throw new Error(`LZW minimum code size must be 2 to 8, got ${minCodeSize}`);
  }
  const alphabet = 1 << minCodeSize;
  const clearCode = alphabet;
  const endCode = alphabet + 1;
  // table[prefix * alphabet + symbol] = code of (prefix string + symbol), 0 = no entry (every
  // real entry is above endCode, so 0 is free to mean "absent").
  const table = new Uint16Array(MAX_CODES * alphabet);
  // Keys filled since the last clear: emptying just these is far cheaper than the whole table.
  const used = new Int32Array(MAX_CODES);
  const out = new BitPacker();
  let codeSize = minCodeSize + 1;
  let nextCode = endCode + 1;
  out.write(clearCode, codeSize);
  if (indices.length === 0) {
    out.write(endCode, codeSize);
    return out.finish();
  }

  let prefix = checked(indices[0], 0, alphabet);
  for (let i = 1; i < indices.length; i++) {
    const symbol = checked(indices[i], i, alphabet);
    const key = prefix * alphabet + symbol;
    const found = table[key];
    if (found !== 0) {
      prefix = found;
      continue;
    }
    out.write(prefix, codeSize);
    if (nextCode === MAX_CODES) {
      out.write(clearCode, codeSize);
      for (let k = endCode + 1; k < MAX_CODES; k++) table[used[k]] = 0;
      codeSize = minCodeSize + 1;
      nextCode = endCode + 1;
    } else {
      // The decoder adds each entry one code later than we do, so it widens its codes exactly
      // when we are about to add the first entry that needs the extra bit.
      if (nextCode >= 1 << codeSize) codeSize++;
      used[nextCode] = key;
      table[key] = nextCode++;
    }
    prefix = symbol;
  }
  out.write(prefix, codeSize);
  out.write(endCode, codeSize);
  return out.finish();
}

function checked(index: number, at: number, alphabet: number): number {
  if (index >= alphabet) {
    throw new Error(`Colour index ${index} at pixel ${at} is outside a ${alphabet}-colour table`);
  }
  return index;
}
