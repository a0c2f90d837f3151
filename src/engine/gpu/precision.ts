// Whether a model may store its weights and activations in float16 on a GPU that has
// `shader-f16`: only where a check against float32 says the outputs stay close. The check runs
// the model with every float32 kernel output rounded to f16 (float16.ts), which is what f16
// storage with f32 arithmetic inside each kernel would give, and compares with plain float32.

export interface OutputError {
  /** Largest |f16 - f32| over the outputs. */
  maxAbs: number;
  /** RMS(f16 - f32) / RMS(f32). */
  relRms: number;
  /** Outputs that came out NaN or infinite in f16 but not in f32 (overflow past 65504). */
  nonFinite: number;
}

export function compareOutputs(f32: ArrayLike<number>, f16: ArrayLike<number>): OutputError {
  if (f32.length !== f16.length) throw new Error(`compareOutputs: ${f32.length} vs ${f16.length}`);
  let maxAbs = 0;
  let sq = 0;
  let ref = 0;
  let nonFinite = 0;
  for (let i = 0; i < f32.length; i++) {
    if (!Number.isFinite(f16[i]) && Number.isFinite(f32[i])) {
      nonFinite++;
      continue;
    }
    const d = f16[i] - f32[i];
    maxAbs = Math.max(maxAbs, Math.abs(d));
    sq += d * d;
    ref += f32[i] * f32[i];
  }
  return { maxAbs, relRms: ref > 0 ? Math.sqrt(sq / ref) : Math.sqrt(sq), nonFinite };
}

/**
 * The accuracy f16 must keep. The models predict noise (or v) of unit scale; 1% relative RMS and
 * 0.05 at worst is below what a 20-50 step sampler's own discretisation changes, and far from
 * what overflow or a lost softmax (the real f16 failures: Inf / NaN, errors of O(1)) produce.
 * f16's unit roundoff is 2^-11 (4.9e-4); a ~270-kernel U-Net lands around 1e-3 relative.
 */
export const F16_TOLERANCE = { maxAbs: 5e-2, relRms: 1e-2 };

export interface PrecisionPlan {
  storage: 'float16' | 'float32';
  why: string;
  error: OutputError | null;
}

/** float16 where the adapter has shader-f16 and the check passed; float32 otherwise. */
export function planPrecision(shaderF16: boolean, error: OutputError | null): PrecisionPlan {
  if (!shaderF16) {
    return { storage: 'float32', why: 'the adapter has no shader-f16', error };
  }
  if (!error) return { storage: 'float32', why: 'f16 accuracy not checked for this model', error };
  const { maxAbs, relRms, nonFinite } = error;
  const measured = `max |diff| ${maxAbs.toExponential(1)}, relative RMS ${relRms.toExponential(1)}`;
  if (nonFinite > 0) {
    return {
      storage: 'float32',
      why: `${nonFinite} outputs overflow in f16 (an activation passes ${65504})`,
      error,
    };
  }
  if (maxAbs > F16_TOLERANCE.maxAbs || relRms > F16_TOLERANCE.relRms) {
    return { storage: 'float32', why: `f16 is too far from f32 (${measured})`, error };
  }
  return { storage: 'float16', why: `f16 within tolerance of f32 (${measured})`, error };
}
