// The trajectory as a WebM video: the same pictures as the GIF, drawn on a canvas whose stream a
// MediaRecorder encodes. Recording runs in real time, so the video lasts as long as the GIF plays.
// Every tick of a fixed frame rate draws the picture due at that moment and asks the stream for
// exactly one video frame.
import type { FrameData } from '../worker/protocol';
import { composeFrame, trajectoryDelays, trajectoryFrames, trajectoryLayout } from './trajectory';

export const WEBM_FPS = 25;
const MIME_TYPES = ['video/webm;codecs=vp8', 'video/webm;codecs=vp9', 'video/webm'];

export type WebmSupport = { ok: true; mimeType: string } | { ok: false; reason: string };

/** Whether this browser can record a canvas to WebM, and if not, why. */
export function webmSupport(): WebmSupport {
  if (typeof MediaRecorder === 'undefined') {
    return { ok: false, reason: 'This browser has no MediaRecorder, so it cannot record video' };
  }
  if (
    typeof HTMLCanvasElement === 'undefined' ||
    typeof HTMLCanvasElement.prototype.captureStream !== 'function'
  ) {
    return { ok: false, reason: 'This browser cannot record a canvas (no captureStream)' };
  }
  const mimeType = MIME_TYPES.find((type) => MediaRecorder.isTypeSupported(type));
  if (!mimeType) return { ok: false, reason: 'This browser cannot record WebM video' };
  return { ok: true, mimeType };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function trajectoryWebm(
  history: readonly FrameData[],
  onProgress: (fraction: number) => void = () => {},
): Promise<Blob> {
  const support = webmSupport();
  if (!support.ok) throw new Error(support.reason);
  const frames = trajectoryFrames(history);
  if (frames.length === 0) throw new Error('There is no trajectory yet: generate first');
  const { batch, height, width } = frames[0];
  const layout = trajectoryLayout(batch, height, width);

  // The picture at its own size, enlarged onto the recorded canvas without smoothing. Video
  // encoders want even sizes; the extra row or column is background.
  const small = document.createElement('canvas');
  small.width = layout.width;
  small.height = layout.height;
  const smallContext = small.getContext('2d');
  const canvas = document.createElement('canvas');
  const outWidth = layout.width * layout.scale;
  const outHeight = layout.height * layout.scale;
  canvas.width = outWidth + (outWidth % 2);
  canvas.height = outHeight + (outHeight % 2);
  const context = canvas.getContext('2d');
  if (!smallContext || !context) throw new Error('This browser cannot draw on a canvas');
  context.imageSmoothingEnabled = false;
  let drawn = -1;
  const draw = (index: number) => {
    if (index === drawn) return;
    const rgba = composeFrame(frames[index], layout);
    smallContext.putImageData(new ImageData(rgba, layout.width, layout.height), 0, 0);
    context.fillStyle = `rgb(${rgba[0]}, ${rgba[1]}, ${rgba[2]})`;
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(small, 0, 0, outWidth, outHeight);
    drawn = index;
  };

  // When each frame's time on screen ends, from the start of the video.
  const delays = trajectoryDelays(frames.length);
  const ends: number[] = [];
  delays.reduce((sum, delay, i) => (ends[i] = sum + delay), 0);
  const totalMs = ends[ends.length - 1];

  draw(0);
  const stream = canvas.captureStream(0);
  const [track] = stream.getVideoTracks() as CanvasCaptureMediaStreamTrack[];
  const recorder = new MediaRecorder(stream, { mimeType: support.mimeType });
  const chunks: Blob[] = [];
  recorder.ondataavailable = (event) => {
    if (event.data.size > 0) chunks.push(event.data);
  };
  const stopped = new Promise<void>((resolve, reject) => {
    recorder.onstop = () => resolve();
    recorder.onerror = (event) =>
      reject(new Error(`Recording failed: ${(event as ErrorEvent).message ?? 'unknown error'}`));
  });

  try {
    recorder.start();
    const tickMs = 1000 / WEBM_FPS;
    const start = performance.now();
    for (let tick = 0; ; tick++) {
      const at = tick * tickMs;
      if (at >= totalMs) break;
      let index = 0;
      while (index < ends.length - 1 && ends[index] <= at) index++;
      draw(index);
      track.requestFrame();
      onProgress(at / totalMs);
      // Wait for the next tick's moment (not a fixed sleep, so delays do not add up).
      await sleep(Math.max(0, start + (tick + 1) * tickMs - performance.now()));
    }
  } finally {
    if (recorder.state !== 'inactive') recorder.stop();
    stream.getTracks().forEach((t) => t.stop());
  }
  await stopped;
  onProgress(1);
  return new Blob(chunks, { type: 'video/webm' });
}
