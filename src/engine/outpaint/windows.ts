// Where MultiDiffusion's windows sit on a canvas larger than the model's images, and how many of
// them cover each pixel. Plain numbers, no tfjs: the UI draws the same layout it previews.

/** The top-left corner of one model-sized window on the canvas. */
export interface WindowOrigin {
  y: number;
  x: number;
}

/**
 * Window starts along one axis of `length` pixels: every `stride` from 0, plus one flush with the
 * far edge when the stride does not land there, so every pixel is covered by at least one window.
 */
export function windowStarts(length: number, window: number, stride: number): number[] {
  if (!(window >= 1 && length >= window && stride >= 1)) {
    throw new Error(`Cannot tile ${length} pixels with windows of ${window} at stride ${stride}`);
  }
  const last = length - window;
  const starts: number[] = [];
  for (let start = 0; start < last; start += stride) starts.push(start);
  starts.push(last);
  return starts;
}

/**
 * The default stride: half a window (rounded up), so that every pixel away from the edges is seen
 * by two windows per axis and neighbouring windows share half their context.
 */
export function defaultStride(window: number): number {
  return Math.max(1, Math.ceil(window / 2));
}

/** Every window on a canvas, row by row. */
export function windowGrid(
  canvas: { height: number; width: number },
  window: { height: number; width: number },
  stride: { y: number; x: number } = {
    y: defaultStride(window.height),
    x: defaultStride(window.width),
  },
): WindowOrigin[] {
  const ys = windowStarts(canvas.height, window.height, stride.y);
  const xs = windowStarts(canvas.width, window.width, stride.x);
  return ys.flatMap((y) => xs.map((x) => ({ y, x })));
}

/** How many windows cover each canvas pixel (row-major, height × width). */
export function coverageCounts(
  canvas: { height: number; width: number },
  window: { height: number; width: number },
  origins: readonly WindowOrigin[],
): Float32Array {
  const counts = new Float32Array(canvas.height * canvas.width);
  for (const { y, x } of origins) {
    for (let row = y; row < y + window.height; row++) {
      for (let col = x; col < x + window.width; col++) counts[row * canvas.width + col]++;
    }
  }
  return counts;
}
