// Low-res sources for the Upscale panel: the main run's current frame, a picture file, the shipped
// examples (held-out emoji the SR model never saw); and the consistency check of a result.
import type { FrameData } from '../../worker/protocol';
import type { LowResSource } from './upscaleStore';

/** At most this many images of a batch are upscaled at once (each costs a full 64x64 U-Net call per step). */
export const MAX_UPSCALE_BATCH = 4;
/** Low-res sides must be multiples of this (the SR U-Net downsamples its 2x output twice). */
export const SIDE_MULTIPLE = 4;
export const LOW_RES_SIDE = 32;

/** 8-bit RGB(A) or gray pixels of `count` images -> NHWC RGB floats in [-1, 1]. */
function toSignedRgb(
  bytes: Uint8Array,
  count: number,
  h: number,
  w: number,
  channels: number,
): Float32Array {
  const out = new Float32Array(count * h * w * 3);
  for (let i = 0; i < count * h * w; i++) {
    for (let c = 0; c < 3; c++) {
      const v = bytes[i * channels + (channels === 1 ? 0 : c)];
      out[i * 3 + c] = v / 127.5 - 1;
    }
  }
  return out;
}

/** The frame's sample (the image the main view shows), first MAX_UPSCALE_BATCH images; null if it cannot be upscaled. */
export function sourceFromFrame(
  frame: FrameData | null,
  label = 'Last sample',
): LowResSource | null {
  if (!frame) return null;
  const { height: h, width: w, channels } = frame;
  if (h % SIDE_MULTIPLE || w % SIDE_MULTIPLE || (channels !== 1 && channels !== 3)) return null;
  const batch = Math.min(frame.batch, MAX_UPSCALE_BATCH);
  const bytes = new Uint8Array(frame.sample, 0, batch * h * w * channels);
  return { label, pixels: toSignedRgb(bytes, batch, h, w, channels), batch, shape: [h, w, 3] };
}

/** The Source panel's picture (an example, an upload or a drawing), HWC in [-1, 1]; null if it cannot be upscaled. */
export function sourceFromPanel(
  pixels: Float32Array | null,
  geometry: { size: number; channels: 1 | 3 },
  label: string | null,
): LowResSource | null {
  const { size, channels } = geometry;
  if (!pixels || size % SIDE_MULTIPLE || pixels.length !== size * size * channels) return null;
  const rgb = new Float32Array(size * size * 3);
  for (let i = 0; i < size * size; i++)
    for (let c = 0; c < 3; c++) rgb[3 * i + c] = pixels[i * channels + (channels === 1 ? 0 : c)];
  return { label: `Source: ${label ?? 'drawing'}`, pixels: rgb, batch: 1, shape: [size, size, 3] };
}

/** RGBA pixels composited on white (as the emoji data were) -> one low-res source image. */
export function sourceFromRgba(
  rgba: Uint8ClampedArray,
  w: number,
  h: number,
  label: string,
): LowResSource {
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    const a = rgba[4 * i + 3] / 255;
    for (let c = 0; c < 3; c++) rgb[3 * i + c] = Math.round(a * rgba[4 * i + c] + (1 - a) * 255);
  }
  return { label, pixels: toSignedRgb(rgb, 1, h, w, 3), batch: 1, shape: [h, w, 3] };
}

/** Draws an image on white at `side` x `side` (smooth scaling when it is not that size already). */
function rasterise(
  image: CanvasImageSource & { width: number; height: number },
  side: number,
): Uint8ClampedArray {
  const canvas = document.createElement('canvas');
  canvas.width = side;
  canvas.height = side;
  const context = canvas.getContext('2d');
  if (!context) throw new Error('no 2D canvas');
  context.imageSmoothingEnabled = image.width !== side || image.height !== side;
  context.imageSmoothingQuality = 'high';
  context.drawImage(image, 0, 0, side, side);
  return context.getImageData(0, 0, side, side).data;
}

/** A picture file as a 32x32 source (scaled to fit if it is another size; transparency on white). */
export async function sourceFromFile(file: File): Promise<LowResSource> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new Error(`${file.name} is not a picture this browser can read`);
  }
  const note =
    bitmap.width === LOW_RES_SIDE && bitmap.height === LOW_RES_SIDE
      ? ''
      : ` (scaled from ${bitmap.width}x${bitmap.height})`;
  const rgba = rasterise(bitmap, LOW_RES_SIDE);
  bitmap.close();
  return sourceFromRgba(rgba, LOW_RES_SIDE, LOW_RES_SIDE, `Upload: ${file.name}${note}`);
}

export interface UpscaleExample {
  label: string;
  source: LowResSource;
}

/** The shipped examples: examples.png, a row of 32x32 cells, labelled by examples.json. */
export async function loadExamples(modelUrl: string): Promise<UpscaleExample[]> {
  const index = (await (await fetch(new URL('examples.json', modelUrl))).json()) as {
    sprite: string;
    cell: number;
    labels: string[];
  };
  const blob = await (await fetch(new URL(index.sprite, modelUrl))).blob();
  const bitmap = await createImageBitmap(blob);
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const context = canvas.getContext('2d');
  if (!context) throw new Error('no 2D canvas');
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const side = index.cell;
  return index.labels.map((label, i) => ({
    label,
    source: sourceFromRgba(
      context.getImageData(i * side, 0, side, side).data,
      side,
      side,
      `Example: ${label}`,
    ),
  }));
}

/**
 * Consistency of a result with its input: the 2x output's 2x2 area average (from 8-bit values)
 * against the low-res input, as PSNR in dB (what training/sr/export_sr.py reports). One value per image.
 */
export function consistencyDb(
  outputBytes: Uint8Array,
  input: Float32Array,
  batch: number,
  h: number,
  w: number,
): number[] {
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    let se = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < 3; c++) {
          const at = (yy: number, xx: number) =>
            outputBytes[((b * 2 * h + yy) * 2 * w + xx) * 3 + c];
          const mean =
            (at(2 * y, 2 * x) +
              at(2 * y, 2 * x + 1) +
              at(2 * y + 1, 2 * x) +
              at(2 * y + 1, 2 * x + 1)) /
            4;
          const down = Math.round(mean);
          const ref = Math.round((input[((b * h + y) * w + x) * 3 + c] + 1) * 127.5);
          se += (down - ref) ** 2;
        }
      }
    }
    const mse = se / (h * w * 3);
    out.push(mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse));
  }
  return out;
}

/** The first MAX_UPSCALE_BATCH examples as one batch (they share a size). */
export function exampleBatch(examples: UpscaleExample[]): LowResSource {
  const picked = examples.slice(0, MAX_UPSCALE_BATCH);
  const per = picked[0].source.pixels.length;
  const pixels = new Float32Array(per * picked.length);
  picked.forEach((x, i) => pixels.set(x.source.pixels, i * per));
  return {
    label: `Examples 1-${picked.length}`,
    pixels,
    batch: picked.length,
    shape: picked[0].source.shape,
  };
}
