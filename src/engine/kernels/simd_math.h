// SIMD helpers shared by the WebAssembly kernels (see group_norm.c for how they are built and
// why they must not use memory of their own).
#ifndef SIMD_MATH_H
#define SIMD_MATH_H
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(name)))

static inline v128_t splat(float v) { return wasm_f32x4_splat(v); }

/** exp(x) for four floats: x = n ln2 + r, |r| <= ln2 / 2, e^r by a degree-7 polynomial, times 2^n. */
static inline v128_t exp4(v128_t x) {
  x = wasm_f32x4_min(wasm_f32x4_max(x, splat(-87.0f)), splat(88.0f));
  v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, splat(1.44269504088896341f)));
  // ln2 in two parts so that n * ln2_hi is exact.
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, splat(0.693359375f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, splat(-2.12194440e-4f)));
  v128_t p = splat(1.9875691500e-4f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), splat(1.3981999507e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), splat(8.3334519073e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), splat(4.1665795894e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), splat(1.6666665459e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), splat(5.0000001201e-1f));
  v128_t y = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(p, r), r), r), splat(1.0f));
  // 2^n from the exponent bits; n is in [-126, 127] after the clamp, so this stays normal.
  v128_t pow2n = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(y, pow2n);
}

static inline v128_t silu4(v128_t y) {
  return wasm_f32x4_div(y, wasm_f32x4_add(splat(1.0f), exp4(wasm_f32x4_neg(y))));
}

static inline float silu1(float y) {
  return wasm_f32x4_extract_lane(silu4(wasm_f32x4_splat(y)), 0);
}

#endif
