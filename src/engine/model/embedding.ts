// Sinusoidal timestep features, identical to training/unet.py's timestep_features: computed in
// double precision (JS numbers, like torch.float64 there) and rounded to float32 once, so fractional
// and large timesteps (t * f up to ~1e3 radians) give the same float32 features as in PyTorch.

/** Features [t.length, dim] row-major: [cos(t * f_i) for i < dim/2, then sin(t * f_i)]. */
export function timestepFeatures(
  timesteps: ArrayLike<number>,
  dim: number,
  maxPeriod = 10000,
): Float32Array {
  const half = Math.floor(dim / 2);
  const out = new Float32Array(timesteps.length * dim);
  for (let b = 0; b < timesteps.length; b++) {
    for (let i = 0; i < half; i++) {
      // Same operation order as the Python: (-log(P) * i) / half, then exp.
      const frequency = Math.exp((-Math.log(maxPeriod) * i) / half);
      const angle = timesteps[b] * frequency;
      out[b * dim + i] = Math.cos(angle);
      out[b * dim + half + i] = Math.sin(angle);
    }
  }
  return out;
}
