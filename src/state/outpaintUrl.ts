// Outpainting's canvas in the page URL: canvas=56x28 (width × height) and offset=28,0 (x, y of
// the known image), written only when they differ from the defaults. No tfjs, no React.
import type { OutpaintSettings } from '../engine/outpaint/outpaintSettings';

/** A side the URL may ask for; the model decides what runs (outpaintProblem says why not). */
export const MAX_URL_CANVAS_SIDE = 512;

/** "56x28" (or 56×28) as width and height, or null. */
export function parseCanvasSize(raw: string): { width: number; height: number } | null {
  const match = /^\s*(\d{1,4})\s*[x×]\s*(\d{1,4})\s*$/i.exec(raw);
  if (!match) return null;
  const [width, height] = [Number(match[1]), Number(match[2])];
  const ok = (v: number) => v >= 1 && v <= MAX_URL_CANVAS_SIDE;
  return ok(width) && ok(height) ? { width, height } : null;
}

/** "28,0" as x and y, or null. */
export function parseOffset(raw: string): { x: number; y: number } | null {
  const match = /^\s*(\d{1,4})\s*,\s*(\d{1,4})\s*$/.exec(raw);
  if (!match) return null;
  const [x, y] = [Number(match[1]), Number(match[2])];
  return x < MAX_URL_CANVAS_SIDE && y < MAX_URL_CANVAS_SIDE ? { x, y } : null;
}

/** The URL with the canvas settings in its query (other parameters kept). */
export function urlWithCanvas(
  href: string,
  canvas: OutpaintSettings,
  defaults: OutpaintSettings,
): string {
  const url = new URL(href);
  const sized = canvas.width !== defaults.width || canvas.height !== defaults.height;
  const moved = canvas.offsetX !== defaults.offsetX || canvas.offsetY !== defaults.offsetY;
  if (sized) url.searchParams.set('canvas', `${canvas.width}x${canvas.height}`);
  else url.searchParams.delete('canvas');
  if (moved) url.searchParams.set('offset', `${canvas.offsetX},${canvas.offsetY}`);
  else url.searchParams.delete('offset');
  return url.href;
}
