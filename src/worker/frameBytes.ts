// Image-space floats to display bytes, done in the worker so the UI thread only copies pixels.

/** [-1, 1] -> 0..255, clipped (x_t overshoots [-1, 1] at high noise). */
export function imageToBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = (values[i] + 1) * 127.5;
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
  }
  return out;
}

/**
 * Predicted noise is roughly N(0, 1): eps / 4 + 0.5 maps ±2 standard deviations onto 0..255, so
 * its structure stays visible instead of clipping to black and white.
 */
export function noiseToBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = (values[i] / 4 + 0.5) * 255;
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
  }
  return out;
}
