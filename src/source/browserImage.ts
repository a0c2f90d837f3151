// Browser-only: decodes image files and URLs into RGBA with createImageBitmap and a 2D canvas.
// (The pure conversions they feed live in pixels.ts and fitImage.ts and are tested in Node.)

export interface Rgba {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

type Canvas2D = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

function context2d(width: number, height: number): Canvas2D {
  if (typeof OffscreenCanvas !== 'undefined') {
    const ctx = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
    if (ctx) return ctx;
  }
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('This browser cannot create a 2D canvas');
  return ctx;
}

/**
 * RGBA of a bitmap, drawn at most `maxSide` pixels on its longer side. A photo of thousands of
 * pixels is first shrunk by the browser's own (high quality) scaler so the area average that
 * follows runs over a bounded number of pixels.
 */
export function bitmapToRgba(bitmap: ImageBitmap, maxSide = Infinity): Rgba {
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const ctx = context2d(width, height);
  ctx.imageSmoothingEnabled = scale < 1;
  ctx.imageSmoothingQuality = 'high';
  ctx.clearRect(0, 0, width, height);
  ctx.drawImage(bitmap, 0, 0, width, height);
  return { data: ctx.getImageData(0, 0, width, height).data, width, height };
}
