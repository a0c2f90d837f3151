// One image of a run's batch as a source image for the next img2img / inpainting run: the
// frame's display bytes (0..255, imageToBytes in the worker) back to the source's [-1, 1].
import { IMAGE_SIZE, PIXEL_COUNT } from '../../source/grid';
import type { FrameData } from '../../worker/protocol';

export type BatchSource = { ok: true; pixels: Float32Array } | { ok: false; problem: string };

/** Image `index` (0-based) of the frame's x_t, if it has the source's size (28×28, one channel). */
export function batchImageAsSource(frame: FrameData, index: number): BatchSource {
  if (index < 0 || index >= frame.batch) {
    return { ok: false, problem: `the batch has no image ${index + 1}` };
  }
  if (frame.height !== IMAGE_SIZE || frame.width !== IMAGE_SIZE || frame.channels !== 1) {
    return {
      ok: false,
      problem:
        `a source is a ${IMAGE_SIZE}×${IMAGE_SIZE} gray image; this run's images are ` +
        `${frame.width}×${frame.height} with ${frame.channels} channels`,
    };
  }
  const bytes = new Uint8Array(frame.sample, index * PIXEL_COUNT, PIXEL_COUNT);
  const pixels = new Float32Array(PIXEL_COUNT);
  for (let i = 0; i < PIXEL_COUNT; i++) pixels[i] = bytes[i] / 127.5 - 1;
  return { ok: true, pixels };
}
