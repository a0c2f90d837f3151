import { useEffect, useRef } from 'react';
import { gridPixels } from '../gridImage';
import type { FrameData, ViewBytes } from '../worker/protocol';

/**
 * One view of the batch (x_t, predicted x_0 or predicted noise) on a canvas of the images' own
 * size, enlarged by CSS with pixelated rendering.
 */
export function ViewCanvas({
  label,
  frame,
  bytes,
}: {
  label: string;
  frame: FrameData | null;
  bytes: ViewBytes;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    const element = canvas.current;
    const context = element?.getContext('2d');
    if (!element || !context) return;
    if (!frame || !bytes) {
      context.clearRect(0, 0, element.width, element.height);
      return;
    }
    const { layout, rgba } = gridPixels(
      new Uint8Array(bytes),
      frame.batch,
      frame.height,
      frame.width,
      frame.channels,
    );
    if (element.width !== layout.width) element.width = layout.width;
    if (element.height !== layout.height) element.height = layout.height;
    context.putImageData(new ImageData(rgba, layout.width, layout.height), 0, 0);
  }, [frame, bytes]);

  return (
    <figure className="view">
      <canvas
        ref={canvas}
        className="view-canvas"
        width={28}
        height={28}
        role="img"
        aria-label={label}
        data-empty={!frame || !bytes}
      />
      <figcaption>{label}</figcaption>
    </figure>
  );
}
