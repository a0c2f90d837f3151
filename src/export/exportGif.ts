// The trajectory as an animated GIF, encoded on the main thread one frame at a time with a yield
// between frames, so the page stays responsive and can show progress.
import type { FrameData } from '../worker/protocol';
import { GifWriter } from './gifEncoder';
import {
  composeFrame,
  enlarge,
  trajectoryDelays,
  trajectoryFrames,
  trajectoryLayout,
} from './trajectory';

/** Lets the browser paint and handle input before the next frame. */
const yieldToPage = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export async function trajectoryGif(
  history: readonly FrameData[],
  onProgress: (done: number, total: number) => void = () => {},
): Promise<Blob> {
  const frames = trajectoryFrames(history);
  if (frames.length === 0) throw new Error('There is no trajectory yet: generate first');
  const { batch, height, width, channels } = frames[0];
  const layout = trajectoryLayout(batch, height, width);
  const gray = channels === 1;
  const writer = new GifWriter(
    layout.width * layout.scale,
    layout.height * layout.scale,
    gray ? 'gray' : 'rgb676',
  );
  const delays = trajectoryDelays(frames.length);
  for (let i = 0; i < frames.length; i++) {
    const pixels = enlarge(
      composeFrame(frames[i], layout),
      layout.width,
      layout.height,
      layout.scale,
      gray,
    );
    writer.addFrame(
      { width: writer.width, height: writer.height, format: gray ? 'gray' : 'rgba', pixels },
      delays[i],
    );
    onProgress(i + 1, frames.length);
    await yieldToPage();
  }
  return new Blob([writer.finish()], { type: 'image/gif' });
}
