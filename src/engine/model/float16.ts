// IEEE 754 half precision -> float32, via a 65,536-entry table built once (256 KiB): decoding the
// ~1M weights is then one lookup each, which matters on slow devices.
let table: Float32Array | null = null;

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function halfTable(): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) table[bits] = halfToFloat(bits);
  }
  return table;
}

/** Decodes `count` little-endian float16 values starting at `byteOffset` (any alignment). */
export function decodeFloat16(
  buffer: ArrayBuffer,
  byteOffset: number,
  count: number,
): Float32Array {
  const lookup = halfTable();
  const bytes = new Uint8Array(buffer, byteOffset, count * 2);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = lookup[bytes[2 * i] | (bytes[2 * i + 1] << 8)];
  return out;
}

/** Decodes `count` little-endian float32 values starting at `byteOffset` (any alignment). */
export function decodeFloat32(
  buffer: ArrayBuffer,
  byteOffset: number,
  count: number,
): Float32Array {
  const view = new DataView(buffer, byteOffset, count * 4);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}
