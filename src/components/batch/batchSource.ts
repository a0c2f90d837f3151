// One image of a run's batch as a source image for the next img2img / inpainting run: the
// frame's display bytes (0..255, imageToBytes in the worker) back to the source's [-1, 1], in
// the frame's own layout (height × width × channels). The source store checks (and where it
// can, converts) the size; the upscale stage takes it as a one-image frame.
import type { FrameData } from '../../worker/protocol';

export type BatchSource =
  { ok: true; pixels: Float32Array; single: FrameData } | { ok: false; problem: string };

/** Image `index` (0-based) of the frame's x_t: square, gray or colour. */
export function batchImageAsSource(frame: FrameData, index: number): BatchSource {
  const { height, width, channels } = frame;
  if (index < 0 || index >= frame.batch) {
    return { ok: false, problem: `the batch has no image ${index + 1}` };
  }
  if (height !== width || (channels !== 1 && channels !== 3)) {
    return {
      ok: false,
      problem: `a source is a square gray or colour image; this one is ${width}×${height} with ${channels} channels`,
    };
  }
  const size = height * width * channels;
  const bytes = new Uint8Array(frame.sample, index * size, size);
  const pixels = new Float32Array(size);
  for (let i = 0; i < size; i++) pixels[i] = bytes[i] / 127.5 - 1;
  // The same image as a frame of its own (batch 1), for consumers that take frames.
  const single: FrameData = {
    ...frame,
    batch: 1,
    sample: bytes.slice().buffer,
    predictedX0: null,
    predictedNoise: null,
  };
  return { ok: true, pixels, single };
}
