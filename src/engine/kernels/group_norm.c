// GroupNorm (+ an optional per-image, per-channel addend before it) (+ an optional SiLU after it)
// over NHWC float32 activations, in one call, for tfjs-backend-wasm. Built, with attention.c, by
// scripts/build-wasm-kernels.mjs into kernelsWasm.ts (clang --target=wasm32 -msimd128).
//
// The module imports tfjs-backend-wasm's own linear memory, so every pointer below is an address
// in tfjs's heap (a tensor's memoryOffset). It therefore must never touch memory it was not given:
// no static data, no stack (all temporaries are locals; the per-channel scratch is passed in).
// scripts/build-wasm-kernels.mjs refuses a build whose code uses the stack pointer.
//
// Numbers: PyTorch's nn.GroupNorm (two-pass mean and biased variance per image and group, then
// (x - mean) / sqrt(var + eps) * gamma + beta); the first pass sums x minus the first position's
// value so that a large common offset does not eat the float32 sums' precision. SiLU is
// y / (1 + exp(-y)) with a Cephes-style exp (about 2 ulp).
#include "simd_math.h"

/** Per-channel sums over the positions of one image of (x + a[c] - m[c]), or of its square; a, m may be null. */
static void channel_sums(const float *x, const float *a, const float *m, float *sums, int hw, int c,
                         int squared) {
  int c4 = c & ~3;
  for (int k = 0; k < c4; k += 4) {
    v128_t shift = wasm_f32x4_sub(a ? wasm_v128_load(a + k) : splat(0.0f),
                                  m ? wasm_v128_load(m + k) : splat(0.0f));
    // Two accumulators: half the rounding error and a shorter dependency chain.
    v128_t acc0 = splat(0.0f), acc1 = splat(0.0f);
    int p = 0;
    for (; p + 1 < hw; p += 2) {
      v128_t d0 = wasm_f32x4_add(wasm_v128_load(x + p * c + k), shift);
      v128_t d1 = wasm_f32x4_add(wasm_v128_load(x + (p + 1) * c + k), shift);
      acc0 = wasm_f32x4_add(acc0, squared ? wasm_f32x4_mul(d0, d0) : d0);
      acc1 = wasm_f32x4_add(acc1, squared ? wasm_f32x4_mul(d1, d1) : d1);
    }
    if (p < hw) {
      v128_t d0 = wasm_f32x4_add(wasm_v128_load(x + p * c + k), shift);
      acc0 = wasm_f32x4_add(acc0, squared ? wasm_f32x4_mul(d0, d0) : d0);
    }
    wasm_v128_store(sums + k, wasm_f32x4_add(acc0, acc1));
  }
  for (int k = c4; k < c; k++) {
    float shift = (a ? a[k] : 0.0f) - (m ? m[k] : 0.0f), acc = 0.0f;
    for (int p = 0; p < hw; p++) {
      float d = x[p * c + k] + shift;
      acc += squared ? d * d : d;
    }
    sums[k] = acc;
  }
}

/**
 * Group means of x + a from per-channel sums of (x - x0) over hw positions (x0: the first
 * position's values, a shift that keeps the float sums small whatever the activations' offset).
 * Writes each channel's group mean into mean[c], combining in double precision.
 */
static void group_means(const float *sums, const float *x0, const float *a, float *mean, int hw,
                        int c, int groups) {
  int width = c / groups;
  for (int g = 0; g < groups; g++) {
    double total = 0.0;
    for (int k = g * width; k < (g + 1) * width; k++) {
      total += (double)sums[k] + (double)hw * ((double)x0[k] + (a ? (double)a[k] : 0.0));
    }
    float m = (float)(total / ((double)hw * width));
    for (int k = g * width; k < (g + 1) * width; k++) mean[k] = m;
  }
}

/** Each group's mean of the per-channel sums, divided by the group's element count. */
static void group_averages(float *sums, int hw, int c, int groups) {
  int width = c / groups;
  for (int g = 0; g < groups; g++) {
    double total = 0.0;
    for (int k = g * width; k < (g + 1) * width; k++) total += sums[k];
    float m = (float)(total / ((double)hw * width));
    for (int k = g * width; k < (g + 1) * width; k++) sums[k] = m;
  }
}

/**
 * out = act(GroupNorm(x + add)): x, out [batch, hw, c]; add [batch, c] or null; gamma, beta [c];
 * scratch: 3 * c floats. act is SiLU when silu != 0, else the identity. out may not alias x.
 */
EXPORT("group_norm")
void group_norm(const float *x, const float *add, const float *gamma, const float *beta, float *out,
                int batch, int hw, int c, int groups, float eps, int silu, float *scratch) {
  float *shift = scratch, *var = scratch + c, *scale = scratch + 2 * c;
  for (int b = 0; b < batch; b++) {
    const float *xb = x + (long)b * hw * c;
    const float *ab = add ? add + (long)b * c : 0;
    float *ob = out + (long)b * hw * c;
    // Pass 1: means. var holds the raw sums of x - x0 for a moment.
    channel_sums(xb, 0, xb, var, hw, c, 0);
    group_means(var, xb, ab, shift, hw, c, groups);
    // shift = a - mean, so that x + shift is the centred value; pass 2: biased variances.
    for (int k = 0; k < c; k++) shift[k] = (ab ? ab[k] : 0.0f) - shift[k];
    channel_sums(xb, shift, 0, var, hw, c, 1);
    group_averages(var, hw, c, groups);
    for (int k = 0; k < c; k++) {
      scale[k] = gamma[k] / wasm_f32x4_extract_lane(wasm_f32x4_sqrt(splat(var[k] + eps)), 0);
    }
    // Pass 3: y = (x + a - mean) * rstd * gamma + beta, centring first (exact for close values).
    int c4 = c & ~3;
    for (int p = 0; p < hw; p++) {
      const float *xp = xb + p * c;
      float *op = ob + p * c;
      for (int k = 0; k < c4; k += 4) {
        v128_t centred = wasm_f32x4_add(wasm_v128_load(xp + k), wasm_v128_load(shift + k));
        v128_t y = wasm_f32x4_add(wasm_f32x4_mul(centred, wasm_v128_load(scale + k)),
                                  wasm_v128_load(beta + k));
        wasm_v128_store(op + k, silu ? silu4(y) : y);
      }
      for (int k = c4; k < c; k++) {
        float y = (xp[k] + shift[k]) * scale[k] + beta[k];
        op[k] = silu ? silu1(y) : y;
      }
    }
  }
}
