// The core of multi-head self-attention for tfjs-backend-wasm, in one call: from the fused q, k, v
// projections to the heads' outputs, softmax(q k^T / sqrt(d)) v. In tfjs ops this is a split, four
// transposes, two batched matMuls (whose batched path in tfjs-backend-wasm is a plain loop, about
// 2.5 GFLOP/s here), a division and a softmax. Same memory rules as group_norm.c.
#include "simd_math.h"

static inline float sum4(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) +
         wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3);
}

static inline float dot(const float *a, const float *b, int d) {
  int d4 = d & ~3, i = 0;
  v128_t acc = splat(0.0f);
  for (; i < d4; i += 4) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
  float s = sum4(acc);
  for (; i < d; i++) s += a[i] * b[i];
  return s;
}

/**
 * qkv [batch, n, 3c]: per position q, k, v, each c wide, head h taking channels [h d, (h+1) d) of
 * each (d = c / heads), as PyTorch's reshape of one qkv Linear gives them. out [batch, n, c]: the
 * heads' outputs side by side, ready for the output projection. scratch: n floats.
 */
EXPORT("attention")
void attention(const float *qkv, float *out, int batch, int n, int c, int heads, float *scratch) {
  int d = c / heads, row = 3 * c, n4 = n & ~3, d4 = d & ~3;
  float scale = 1.0f / wasm_f32x4_extract_lane(wasm_f32x4_sqrt(splat((float)d)), 0);
  for (int b = 0; b < batch; b++) {
    const float *base = qkv + (long)b * n * row;
    for (int h = 0; h < heads; h++) {
      const float *q0 = base + h * d, *k0 = base + c + h * d, *v0 = base + 2 * c + h * d;
      for (int i = 0; i < n; i++) {
        const float *q = q0 + (long)i * row;
        float top = -3.4e38f;
        for (int j = 0; j < n; j++) {
          float s = dot(q, k0 + (long)j * row, d) * scale;
          scratch[j] = s;
          top = s > top ? s : top;
        }
        // Softmax weights, shifted by the largest score so that exp cannot overflow.
        v128_t total4 = splat(0.0f);
        int j = 0;
        for (; j < n4; j += 4) {
          v128_t e = exp4(wasm_f32x4_sub(wasm_v128_load(scratch + j), splat(top)));
          wasm_v128_store(scratch + j, e);
          total4 = wasm_f32x4_add(total4, e);
        }
        float total = sum4(total4);
        for (; j < n; j++) {
          float e = wasm_f32x4_extract_lane(exp4(splat(scratch[j] - top)), 0);
          scratch[j] = e;
          total += e;
        }
        float inv = 1.0f / total;
        float *o = out + ((long)b * n + i) * c + h * d;
        int k = 0;
        for (; k < d4; k += 4) {
          v128_t acc = splat(0.0f);
          for (int jj = 0; jj < n; jj++) {
            acc = wasm_f32x4_add(acc, wasm_f32x4_mul(splat(scratch[jj]), wasm_v128_load(v0 + (long)jj * row + k)));
          }
          wasm_v128_store(o + k, wasm_f32x4_mul(acc, splat(inv)));
        }
        for (; k < d; k++) {
          float acc = 0.0f;
          for (int jj = 0; jj < n; jj++) acc += scratch[jj] * v0[(long)jj * row + k];
          o[k] = acc * inv;
        }
      }
    }
  }
}
