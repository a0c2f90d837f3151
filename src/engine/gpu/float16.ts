// IEEE 754 binary16 ("half", WGSL's f16) from and to float32/float64, rounding to nearest, ties to
// even, as a GPU does when a shader with `enable f16;` stores an f32 into an f16. Used to check,
// on the CPU, what storing a model's weights and activations in f16 would cost in accuracy
// (precision.ts), before a GPU path stores them so.

/** The largest finite f16 (65504): anything that rounds above it becomes Infinity. */
export const FLOAT16_MAX = 65504;
/** The smallest positive normal f16 (2^-14) and subnormal f16 (2^-24). */
export const FLOAT16_MIN_NORMAL = 2 ** -14;
export const FLOAT16_MIN_SUBNORMAL = 2 ** -24;
/** Unit roundoff: the largest relative error of rounding a normal value (2^-11). */
export const FLOAT16_UNIT_ROUNDOFF = 2 ** -11;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * The f16 bit pattern nearest to `value` (first rounded to float32, as a shader's f32 would be).
 * NaN stays NaN (quiet), overflow goes to ±Infinity, tiny values to subnormals or ±0.
 */
export function float32ToFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 | (mantissa >>> 13) : 0);
  const e = exponent - 127 + 15; // the f16 exponent field, if it were normal
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal in f16 (or zero): the value is half * 2^-24.
    if (e < -10) return sign; // below half the smallest subnormal: rounds to zero
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa moves into the exponent: the right answer, up to Infinity.
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** The value of an f16 bit pattern. */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * FLOAT16_MIN_SUBNORMAL;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** `value` stored as f16 and read back. */
export function roundToFloat16(value: number): number {
  return float16BitsToFloat32(float32ToFloat16Bits(value));
}

/** Every element stored as f16 and read back, in place. */
export function roundArrayToFloat16<T extends Float32Array | Float64Array>(values: T): T {
  for (let i = 0; i < values.length; i++) values[i] = roundToFloat16(values[i]);
  return values;
}

/** Packs values as f16 bits (what a GPU buffer of f16 holds). */
export function toFloat16Bits(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32ToFloat16Bits(values[i]);
  return out;
}

/** Unpacks f16 bits to float32. */
export function fromFloat16Bits(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = float16BitsToFloat32(bits[i]);
  return out;
}
