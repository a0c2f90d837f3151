import { useEffect, useRef, type CSSProperties } from 'react';
import { gridLayout, gridPixels } from '../gridImage';
import type { FrameData, ViewBytes } from '../worker/protocol';

/** The largest a view is drawn, in CSS pixels: a square grid fills the height, a wide one the width. */
const MAX_DISPLAY = { width: 504, height: 252 };

/** CSS size of a view: the grid enlarged as far as MAX_DISPLAY allows, its shape kept. */
function displaySize(frame: FrameData | null): { width: number; height: number } | undefined {
  if (!frame) return undefined;
  const layout = gridLayout(frame.batch, frame.height, frame.width);
  const scale = Math.min(MAX_DISPLAY.width / layout.width, MAX_DISPLAY.height / layout.height);
  return { width: Math.round(layout.width * scale), height: Math.round(layout.height * scale) };
}

/**
 * One view of the batch (x_t, predicted x_0 or predicted noise) on a canvas of the images' own
 * size (the model's, or an outpainting canvas), enlarged by CSS with pixelated rendering.
 * `style` sizes and places it instead (the main view); `bare` leaves out the caption.
 */
export function ViewCanvas({
  label,
  frame,
  bytes,
  style,
  bare = false,
}: {
  label: string;
  frame: FrameData | null;
  bytes: ViewBytes;
  style?: CSSProperties;
  bare?: boolean;
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

  const view = (
    <canvas
      ref={canvas}
      className="view-canvas"
      style={style ?? displaySize(frame)}
      width={28}
      height={28}
      role="img"
      aria-label={label}
      data-empty={!frame || !bytes}
    />
  );
  if (bare) return view;
  return (
    <figure className="view">
      {view}
      <figcaption>{label}</figcaption>
    </figure>
  );
}
