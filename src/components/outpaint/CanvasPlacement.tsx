// A preview of the outpainting canvas: the known image where it will sit, a checkerboard where
// the run will paint. Dragging the image moves it (whole pixels, kept on the canvas); the Offset
// fields next to it do the same from the keyboard.
import { useEffect, useRef, type PointerEvent } from 'react';
import type { OutpaintSettings } from '../../engine/outpaint/outpaintSettings';
import { signedToByte } from '../../source/pixels';

/** The largest the preview is drawn, in CSS pixels. */
const MAX_CSS = { width: 336, height: 252 };
/** Checkerboard squares (canvas pixels) and shades marking the part to generate. */
const CHECK = 4;
const SHADES = [44, 60] as const;

/** RGBA of the preview: checkerboard, with the known image (1 channel) drawn at its offset. */
export function previewRgba(
  canvas: OutpaintSettings,
  known: { pixels: Float32Array; height: number; width: number } | null,
): Uint8ClampedArray<ArrayBuffer> {
  const { width, height, offsetX, offsetY } = canvas;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside =
        known &&
        x >= offsetX &&
        x < offsetX + known.width &&
        y >= offsetY &&
        y < offsetY + known.height;
      const shade = inside
        ? signedToByte(known.pixels[(y - offsetY) * known.width + x - offsetX])
        : SHADES[(Math.floor(x / CHECK) + Math.floor(y / CHECK)) % 2];
      const at = (y * width + x) * 4;
      rgba[at] = rgba[at + 1] = rgba[at + 2] = shade;
      rgba[at + 3] = 255;
    }
  }
  return rgba;
}

export function CanvasPlacement({
  canvas,
  known,
  onMove,
}: {
  canvas: OutpaintSettings;
  known: { pixels: Float32Array; height: number; width: number } | null;
  onMove(offset: { x: number; y: number }): void;
}) {
  const element = useRef<HTMLCanvasElement>(null);
  const drag = useRef<{ pointerX: number; pointerY: number; x: number; y: number } | null>(null);
  const scale = Math.min(MAX_CSS.width / canvas.width, MAX_CSS.height / canvas.height);

  useEffect(() => {
    const context = element.current?.getContext('2d');
    if (!context) return;
    const image = new ImageData(previewRgba(canvas, known), canvas.width, canvas.height);
    context.putImageData(image, 0, 0);
  }, [canvas, known]);

  const onPointerDown = (event: PointerEvent<HTMLCanvasElement>) => {
    if (!known) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    drag.current = {
      pointerX: event.clientX,
      pointerY: event.clientY,
      x: canvas.offsetX,
      y: canvas.offsetY,
    };
  };
  const onPointerMove = (event: PointerEvent<HTMLCanvasElement>) => {
    const start = drag.current;
    if (!start) return;
    // CSS pixels to canvas pixels: the element is drawn `scale` times larger.
    const x = Math.round(start.x + (event.clientX - start.pointerX) / scale);
    const y = Math.round(start.y + (event.clientY - start.pointerY) / scale);
    if (x !== canvas.offsetX || y !== canvas.offsetY) onMove({ x, y });
  };
  const endDrag = () => {
    drag.current = null;
  };

  return (
    <canvas
      ref={element}
      className="outpaint-preview"
      width={canvas.width}
      height={canvas.height}
      style={{ width: canvas.width * scale, height: canvas.height * scale }}
      role="img"
      aria-label="Canvas preview"
      data-offset={`${canvas.offsetX},${canvas.offsetY}`}
      data-draggable={known !== null}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={endDrag}
      onPointerCancel={endDrag}
    />
  );
}
