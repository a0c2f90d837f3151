// Small numpy look-alikes. diffusers computes its schedule tables with numpy in float64, so we
// reproduce numpy's exact formulas (including its rounding rules) to get the same numbers.

export const f32 = Math.fround;

/** numpy.linspace(start, stop, num) with endpoint=True, in float64. */
export function linspace(start: number, stop: number, num: number): number[] {
  if (num <= 0) return [];
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  const out = new Array<number>(num);
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  out[num - 1] = stop;
  return out;
}

/**
 * numpy.arange(start, stop, step) for numbers. numpy stores `start` and `start + step`, then fills
 * the rest as `start + i * delta` with `delta = (start + step) - start` (its DOUBLE_fill). For a
 * fractional step such as 1000 / 48 that delta differs from `step` in the last bits, which flips
 * np.round at exact halves (e.g. "trailing" spacing, 48 steps: 62.5).
 */
export function arange(start: number, stop: number, step = 1): number[] {
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const out = new Array<number>(n);
  if (n > 0) out[0] = start;
  if (n > 1) out[1] = start + step;
  const delta = start + step - start;
  for (let i = 2; i < n; i++) out[i] = start + i * delta;
  return out;
}

/** numpy.round / torch.round: round half to even ("banker's rounding"), unlike Math.round. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  if (Math.abs(x % 1) === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

/** numpy.interp(x, xp, fp) for increasing xp, clamping at both ends. */
export function interp(x: number, xp: ArrayLike<number>, fp: ArrayLike<number>): number {
  const n = xp.length;
  if (x <= xp[0]) return fp[0];
  if (x >= xp[n - 1]) return fp[n - 1];
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xp[mid] <= x) lo = mid;
    else hi = mid;
  }
  const slope = (fp[hi] - fp[lo]) / (xp[hi] - xp[lo]);
  return slope * (x - xp[lo]) + fp[lo];
}

/**
 * torch.linspace(start, end, steps, dtype=float32) as ATen's CPU kernel computes it: the step and
 * every value in float32, counting from the start for the first half and from the end for the
 * second half (which is why the last value is exactly `end`).
 */
export function torchLinspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const s = f32(start);
  const e = f32(end);
  const step = f32(f32(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) {
    out[i] = i < halfway ? f32(s + f32(step * i)) : f32(e - f32(step * (steps - i - 1)));
  }
  return out;
}
