// Outpainting's settings: a canvas larger than the model's images and where the known image sits
// on it, their checks (with messages a person can act on), the canvas presets, and the known
// image placed as inpainting settings at canvas size. No tfjs: the page uses all of it.
import type { InpaintSettings } from '../run/settings';

export interface OutpaintSettings {
  /** The canvas, in pixels: at least the model's image size, at most MAX_CANVAS_FACTOR times it. */
  height: number;
  width: number;
  /** Where the known image's top-left corner sits on the canvas (ignored without one). */
  offsetY: number;
  offsetX: number;
}

/**
 * How far a side may grow. Model calls per step grow with the window count (3 windows at 2x one
 * side, 9 at 2x both, 49 at 4x both with half-window strides), and 4x is already a slow run here.
 */
export const MAX_CANVAS_FACTOR = 4;

interface Size {
  height: number;
  width: number;
}

/** "56×28": width × height, as the presets are named. */
export const sizeLabel = ({ width, height }: Size): string => `${width}×${height}`;

/** Why these settings cannot run on a model of size `native`, or null when they can. */
export function outpaintProblem(
  o: OutpaintSettings,
  native: Size,
  known: Size | null,
): string | null {
  const canvas = sizeLabel(o);
  if (![o.height, o.width].every(Number.isInteger)) {
    return `The canvas size must be whole pixels (got ${canvas})`;
  }
  if (o.height < native.height || o.width < native.width) {
    return `The canvas must be at least the model's size, ${sizeLabel(native)} (got ${canvas})`;
  }
  const most = {
    height: native.height * MAX_CANVAS_FACTOR,
    width: native.width * MAX_CANVAS_FACTOR,
  };
  if (o.height > most.height || o.width > most.width) {
    return `The canvas can be at most ${MAX_CANVAS_FACTOR}× the model's size, ${sizeLabel(most)} (got ${canvas})`;
  }
  if (![o.offsetY, o.offsetX].every(Number.isInteger)) {
    return `The offsets must be whole pixels (got x ${o.offsetX}, y ${o.offsetY})`;
  }
  const room = known
    ? { x: o.width - known.width, y: o.height - known.height }
    : { x: o.width - 1, y: o.height - 1 };
  if (room.x < 0 || room.y < 0) {
    return `The known image (${sizeLabel(known!)}) is larger than the ${canvas} canvas`;
  }
  if (o.offsetX < 0 || o.offsetY < 0 || o.offsetX > room.x || o.offsetY > room.y) {
    const what = known ? `The known image (${sizeLabel(known)})` : 'The offset';
    return (
      `${what} at offset x ${o.offsetX}, y ${o.offsetY} does not fit on the ${canvas} canvas: ` +
      `offset x can be 0 to ${room.x}, offset y 0 to ${room.y}`
    );
  }
  return null;
}

/** Throws outpaintProblem's message, if there is one. */
export function validateOutpaint(o: OutpaintSettings, native: Size, known: Size | null): void {
  const problem = outpaintProblem(o, native, known);
  if (problem) throw new Error(problem);
}

/** The canvas sizes the panel offers for a model of size `native`: 2× variants, then wider. */
export function canvasPresets(native: Size): Size[] {
  const { height: h, width: w } = native;
  return [
    { width: 2 * w, height: h },
    { width: w, height: 2 * h },
    { width: 2 * w, height: 2 * h },
    { width: 3 * w, height: h },
    { width: 4 * w, height: h },
  ];
}

/** The known image a run keeps: HWC pixels in [-1, 1] and, optionally, its inpainting mask. */
export interface KnownImage extends Size {
  pixels: Float32Array;
  /** HW, 1 where the image itself is re-imagined (the source editor's mask); null keeps it all. */
  mask: Float32Array | null;
}

/**
 * The known image placed on the canvas as inpainting settings at canvas size: the mask is 1
 * (generate) everywhere outside it and its own mask (0 where not painted) inside, so RePaint's
 * known-region replacement and resampling act on the canvas unchanged. The canvas outside the
 * known image holds 0: the mask ignores those values.
 */
export function placeKnownImage(
  o: OutpaintSettings,
  native: Size & { channels: number },
  known: KnownImage,
): InpaintSettings {
  validateOutpaint(o, native, known);
  const { channels } = native;
  if (known.pixels.length !== known.height * known.width * channels) {
    throw new Error(
      `The known image has ${known.pixels.length} values, ${sizeLabel(known)}×${channels} needs ` +
        `${known.height * known.width * channels}`,
    );
  }
  const pixels = new Float32Array(o.height * o.width * channels);
  const mask = new Float32Array(o.height * o.width).fill(1);
  for (let y = 0; y < known.height; y++) {
    for (let x = 0; x < known.width; x++) {
      const at = (y + o.offsetY) * o.width + x + o.offsetX;
      const from = y * known.width + x;
      mask[at] = known.mask ? known.mask[from] : 0;
      for (let c = 0; c < channels; c++) {
        pixels[at * channels + c] = known.pixels[from * channels + c];
      }
    }
  }
  return { pixels, mask };
}
