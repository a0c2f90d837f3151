// The denoising trajectory as a list of pictures, shared by the GIF and WebM exports (no DOM).
//
// Which frames: every frame the run's history holds (the frames the Timeline scrubs through): the
// starting noise, each step that reached the UI (the worker posts at most ~60 frames a second, so
// very fast steps may be missing, as they are from the Timeline), and the final one. After Step
// back or a mid-run change the history is the current path, so the export shows what the run
// finally went through. A frame whose pictures equal the previous one's (a re-post caused by a
// pause or a re-planning update) adds nothing and is skipped.
//
// Each picture: x_t of the whole batch grid on the left, predicted x_0 on the right (blank for the
// starting noise, which has no prediction), labels above, "step k/N" below; enlarged by a whole
// factor with nearest-neighbour scaling so 28-pixel digits stay crisp.
import { gridLayout, gridPixels } from '../gridImage';
import type { FrameData } from '../worker/protocol';
import { drawText, GLYPH_HEIGHT, textWidth } from './pixelFont';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface TrajectoryLayout {
  /** Size before enlarging. */
  width: number;
  height: number;
  /** Whole-number enlargement of the exported pictures. */
  scale: number;
  /** Where the two grids sit, before enlarging. */
  xt: Rect;
  x0: Rect;
  headerY: number;
  footerY: number;
}

const MARGIN = 2;
const PANEL_GAP = 4;
const LABEL_ROWS = GLYPH_HEIGHT + 2;
const BACKGROUND = 40;
const TEXT = 230;
/** Exports come out about this wide (the scale is the largest whole factor that fits, 1 to 8). */
const TARGET_WIDTH = 480;
const MAX_SCALE = 8;
/** The whole trajectory plays in about this long, each frame 20-150 ms; the last is held. */
const PLAY_MS = 3000;
export const LAST_FRAME_MS = 1500;

export function trajectoryLayout(batch: number, height: number, width: number): TrajectoryLayout {
  const grid = gridLayout(batch, height, width);
  const totalWidth = MARGIN + grid.width + PANEL_GAP + grid.width + MARGIN;
  const panelY = MARGIN + LABEL_ROWS;
  return {
    width: totalWidth,
    height: panelY + grid.height + LABEL_ROWS + MARGIN,
    scale: Math.max(1, Math.min(MAX_SCALE, Math.floor(TARGET_WIDTH / totalWidth))),
    xt: { x: MARGIN, y: panelY, width: grid.width, height: grid.height },
    x0: { x: MARGIN + grid.width + PANEL_GAP, y: panelY, width: grid.width, height: grid.height },
    headerY: MARGIN + 1,
    footerY: panelY + grid.height + 1,
  };
}

function sameBytes(a: ArrayBuffer | null, b: ArrayBuffer | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** The frames an export shows (see the top of this file); throws if their sizes differ. */
export function trajectoryFrames(history: readonly FrameData[]): FrameData[] {
  const kept: FrameData[] = [];
  for (const frame of history) {
    const first = kept[0];
    if (
      first &&
      (frame.batch !== first.batch ||
        frame.height !== first.height ||
        frame.width !== first.width ||
        frame.channels !== first.channels)
    ) {
      throw new Error('The run’s frames have different image sizes');
    }
    const previous = kept.at(-1);
    if (
      previous &&
      sameBytes(previous.sample, frame.sample) &&
      sameBytes(previous.predictedX0, frame.predictedX0)
    ) {
      kept[kept.length - 1] = frame; // same pictures; keep the newer step numbers
      continue;
    }
    kept.push(frame);
  }
  return kept;
}

/** Milliseconds each frame is shown: an even pace, the last frame held. */
export function trajectoryDelays(count: number): number[] {
  const each = Math.min(150, Math.max(20, Math.round(PLAY_MS / Math.max(1, count) / 10) * 10));
  return Array.from({ length: count }, (_, i) => (i === count - 1 ? LAST_FRAME_MS : each));
}

function paste(
  target: Uint8ClampedArray,
  targetWidth: number,
  at: Rect,
  source: Uint8ClampedArray,
): void {
  for (let y = 0; y < at.height; y++) {
    const row = source.subarray(y * at.width * 4, (y + 1) * at.width * 4);
    target.set(row, ((at.y + y) * targetWidth + at.x) * 4);
  }
}

/** One picture of the trajectory at its own size (not enlarged), RGBA. */
export function composeFrame(
  frame: FrameData,
  layout: TrajectoryLayout,
): Uint8ClampedArray<ArrayBuffer> {
  const rgba = new Uint8ClampedArray(layout.width * layout.height * 4);
  for (let i = 0; i < rgba.length; i += 4) {
    rgba[i] = rgba[i + 1] = rgba[i + 2] = BACKGROUND;
    rgba[i + 3] = 255;
  }
  const grid = (bytes: ArrayBuffer) =>
    gridPixels(new Uint8Array(bytes), frame.batch, frame.height, frame.width, frame.channels).rgba;
  paste(rgba, layout.width, layout.xt, grid(frame.sample));
  if (frame.predictedX0) paste(rgba, layout.width, layout.x0, grid(frame.predictedX0));
  const label = (text: string, panel: Rect, y: number) =>
    drawText(
      rgba,
      layout.width,
      panel.x + Math.floor((panel.width - textWidth(text)) / 2),
      y,
      text,
      TEXT,
    );
  label('x_t', layout.xt, layout.headerY);
  label('x_0', layout.x0, layout.headerY);
  const whole = { x: 0, y: 0, width: layout.width, height: layout.height };
  label(`step ${frame.step}/${frame.totalSteps}`, whole, layout.footerY);
  return rgba;
}

/**
 * Nearest-neighbour enlargement by a whole factor; `gray` keeps one byte per pixel (the red
 * channel, which is every channel in a gray picture).
 */
export function enlarge(
  rgba: Uint8ClampedArray,
  width: number,
  height: number,
  scale: number,
  gray: boolean,
): Uint8Array {
  const channels = gray ? 1 : 4;
  const outWidth = width * scale;
  const out = new Uint8Array(outWidth * height * scale * channels);
  const row = new Uint8Array(outWidth * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const src = (y * width + x) * 4;
      for (let k = 0; k < scale; k++) {
        const dst = (x * scale + k) * channels;
        for (let c = 0; c < channels; c++) row[dst + c] = rgba[src + c];
      }
    }
    for (let k = 0; k < scale; k++) out.set(row, (y * scale + k) * outWidth * channels);
  }
  return out;
}

/** `mnist-seed42-20steps.gif`: the model, seed and step count, like Export PNG's names. */
export function trajectoryFileName(
  modelId: string | null,
  seed: number,
  frames: readonly FrameData[],
  extension: string,
): string {
  const steps = frames.at(-1)?.totalSteps ?? 0;
  return `${modelId ?? 'model'}-seed${seed}-${steps}steps.${extension}`;
}
