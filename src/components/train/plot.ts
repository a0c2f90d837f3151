// Plain 2D-canvas drawing for the Train view: points, particles with trails, score arrows and
// small charts. Data space is shown as the square [-VIEW_EXTENT, VIEW_EXTENT]^2, y up.
export const VIEW_EXTENT = 3.5;

export interface View {
  size: number;
}

export function toCanvas(view: View, x: number, y: number): [number, number] {
  const k = view.size / (2 * VIEW_EXTENT);
  return [(x + VIEW_EXTENT) * k, (VIEW_EXTENT - y) * k];
}

export function fromCanvas(view: View, px: number, py: number): [number, number] {
  const k = (2 * VIEW_EXTENT) / view.size;
  return [px * k - VIEW_EXTENT, VIEW_EXTENT - py * k];
}

/** Sizes the canvas backing store to its CSS size times the device pixel ratio; returns the context. */
export function prepare(
  canvas: HTMLCanvasElement,
  cssSize: number,
): CanvasRenderingContext2D | null {
  const ratio = window.devicePixelRatio || 1;
  const px = Math.round(cssSize * ratio);
  if (canvas.width !== px) canvas.width = px;
  if (canvas.height !== px) canvas.height = px;
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, cssSize, cssSize);
  return ctx;
}

export function drawAxes(ctx: CanvasRenderingContext2D, view: View): void {
  ctx.strokeStyle = '#e3e6ea';
  ctx.lineWidth = 1;
  for (let v = -3; v <= 3; v++) {
    const [x] = toCanvas(view, v, 0);
    const [, y] = toCanvas(view, 0, v);
    ctx.beginPath();
    ctx.moveTo(x, 0);
    ctx.lineTo(x, view.size);
    ctx.moveTo(0, y);
    ctx.lineTo(view.size, y);
    ctx.stroke();
  }
}

export function drawPoints(
  ctx: CanvasRenderingContext2D,
  view: View,
  points: ArrayLike<number>,
  color: string,
  radius = 1.5,
): void {
  ctx.fillStyle = color;
  for (let i = 0; i + 1 < points.length; i += 2) {
    const [x, y] = toCanvas(view, points[i], points[i + 1]);
    ctx.fillRect(x - radius, y - radius, 2 * radius, 2 * radius);
  }
}

/** Trails for every k-th particle only: thousands of crossing paths would hide the flow. */
const TRAIL_EVERY = 4;

/** Particles' paths over the given frames, fading toward the past. */
export function drawTrails(
  ctx: CanvasRenderingContext2D,
  view: View,
  frames: Float32Array[],
): void {
  for (let f = 1; f < frames.length; f++) {
    const a = frames[f - 1];
    const b = frames[f];
    ctx.strokeStyle = `rgba(37, 99, 235, ${(0.5 * f) / frames.length})`;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let i = 0; i + 1 < b.length; i += 2 * TRAIL_EVERY) {
      const [x0, y0] = toCanvas(view, a[i], a[i + 1]);
      const [x1, y1] = toCanvas(view, b[i], b[i + 1]);
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1);
    }
    ctx.stroke();
  }
}

/** Arrows along the score at grid points, lengths scaled so the longest spans one grid cell. */
export function drawArrows(
  ctx: CanvasRenderingContext2D,
  view: View,
  points: Float32Array,
  vectors: Float32Array,
): void {
  if (points.length < 4) return;
  const [ax, ay] = toCanvas(view, points[0], points[1]);
  const [bx, by] = toCanvas(view, points[2], points[3]);
  const cell = Math.hypot(bx - ax, by - ay);
  let longest = 0;
  for (let i = 0; i < vectors.length; i += 2)
    longest = Math.max(longest, Math.hypot(vectors[i], vectors[i + 1]));
  if (!(longest > 0) || !Number.isFinite(longest)) return;
  const k = (0.9 * cell) / longest;
  ctx.strokeStyle = 'rgba(220, 38, 38, 0.7)';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let i = 0; i < points.length; i += 2) {
    const [x, y] = toCanvas(view, points[i], points[i + 1]);
    const dx = vectors[i] * k;
    const dy = -vectors[i + 1] * k;
    const ex = x + dx;
    const ey = y + dy;
    ctx.moveTo(x, y);
    ctx.lineTo(ex, ey);
    const len = Math.hypot(dx, dy);
    if (len > 3) {
      const ux = dx / len;
      const uy = dy / len;
      ctx.moveTo(ex, ey);
      ctx.lineTo(ex - 3 * ux + 2 * uy, ey - 3 * uy - 2 * ux);
      ctx.moveTo(ex, ey);
      ctx.lineTo(ex - 3 * ux - 2 * uy, ey - 3 * uy + 2 * ux);
    }
  }
  ctx.stroke();
}
