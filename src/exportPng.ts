// Saves the x_t grid of a frame as a PNG: the grid drawn at its own size, enlarged with nearest-
// neighbour scaling (a 28-pixel digit is too small to see), then canvas.toBlob and a download link.
import { gridPixels } from './gridImage';
import type { FrameData } from './worker/protocol';

const SCALE = 8;

export async function framePng(frame: FrameData): Promise<Blob> {
  const { layout, rgba } = gridPixels(
    new Uint8Array(frame.sample),
    frame.batch,
    frame.height,
    frame.width,
    frame.channels,
  );
  const small = document.createElement('canvas');
  small.width = layout.width;
  small.height = layout.height;
  small.getContext('2d')?.putImageData(new ImageData(rgba, layout.width, layout.height), 0, 0);
  const big = document.createElement('canvas');
  big.width = layout.width * SCALE;
  big.height = layout.height * SCALE;
  const context = big.getContext('2d');
  if (!context) throw new Error('This browser cannot draw on a canvas');
  context.imageSmoothingEnabled = false;
  context.drawImage(small, 0, 0, big.width, big.height);
  return new Promise((resolve, reject) =>
    big.toBlob(
      (blob) => (blob ? resolve(blob) : reject(new Error('PNG encoding failed'))),
      'image/png',
    ),
  );
}

export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started by the time the click returns; free the blob a little later.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
