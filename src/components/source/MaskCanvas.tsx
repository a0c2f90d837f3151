// The painting surface: the source with the mask over it. Brush and Eraser paint the mask, Draw
// paints white onto the source itself. Mouse, pen and touch all arrive as pointer events; the
// pointer is captured so a stroke that leaves the canvas keeps going until release.
import { useMemo, useRef, type PointerEvent } from 'react';
import { IMAGE_SIZE } from '../../source/grid';
import { maskedCount, type Point } from '../../source/mask';
import { maskOverlayRgba } from '../../source/render';
import { useSourceStore } from '../../state/sourceStore';
import { PixelCanvas } from './PixelCanvas';

/** Canvas position of a pointer event in image pixels (continuous, 0..28). */
function imagePoint(event: PointerEvent<HTMLCanvasElement>, canvas: HTMLCanvasElement): Point {
  const rect = canvas.getBoundingClientRect();
  return {
    x: ((event.clientX - rect.left) / rect.width) * IMAGE_SIZE,
    y: ((event.clientY - rect.top) / rect.height) * IMAGE_SIZE,
  };
}

export function MaskCanvas() {
  const pixels = useSourceStore((s) => s.pixels);
  const mask = useSourceStore((s) => s.mask);
  const maskVersion = useSourceStore((s) => s.maskVersion);
  const sourceVersion = useSourceStore((s) => s.sourceVersion);
  const tool = useSourceStore((s) => s.tool);
  const brushSize = useSourceStore((s) => s.brushSize);
  const beginStroke = useSourceStore((s) => s.beginStroke);
  const strokeTo = useSourceStore((s) => s.strokeTo);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const stroke = useRef<{ pointerId: number; last: Point } | null>(null);
  const cursorRef = useRef<HTMLDivElement>(null);

  /** Moves the brush outline without a React render per pointer event; null hides it. */
  const moveCursor = (p: Point | null) => {
    const cursor = cursorRef.current;
    if (!cursor) return;
    cursor.style.display = p ? 'block' : 'none';
    if (p) {
      cursor.style.left = `${(p.x / IMAGE_SIZE) * 100}%`;
      cursor.style.top = `${(p.y / IMAGE_SIZE) * 100}%`;
    }
  };

  const rgba = useMemo(() => maskOverlayRgba(pixels, mask), [pixels, mask]);

  const onPointerDown = (event: PointerEvent<HTMLCanvasElement>) => {
    const canvas = canvasRef.current;
    // Only the primary button paints; a second finger or pen while painting is ignored.
    if (!canvas || event.button !== 0 || stroke.current) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    const p = imagePoint(event, canvas);
    stroke.current = { pointerId: event.pointerId, last: p };
    beginStroke();
    strokeTo(p, p);
  };

  const onPointerMove = (event: PointerEvent<HTMLCanvasElement>) => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    if (event.pointerType !== 'touch') moveCursor(imagePoint(event, canvas));
    const current = stroke.current;
    if (!current || current.pointerId !== event.pointerId) return;
    // Coalesced events are the positions the browser merged into this one frame: using them
    // follows fast curves instead of cutting corners between frames.
    const native = event.nativeEvent;
    const events =
      typeof native.getCoalescedEvents === 'function' ? native.getCoalescedEvents() : [];
    const points = (events.length ? events : [native]).map((e) =>
      imagePoint(e as unknown as PointerEvent<HTMLCanvasElement>, canvas),
    );
    for (const p of points) {
      strokeTo(current.last, p);
      current.last = p;
    }
  };

  const endStroke = (event: PointerEvent<HTMLCanvasElement>) => {
    if (stroke.current?.pointerId !== event.pointerId) return;
    stroke.current = null;
    if (canvasRef.current?.hasPointerCapture(event.pointerId)) {
      canvasRef.current.releasePointerCapture(event.pointerId);
    }
  };

  return (
    <div className="mask-canvas-wrap">
      <PixelCanvas
        ref={canvasRef}
        rgba={rgba}
        aria-label="Mask"
        role="img"
        className={`mask-canvas tool-${tool}`}
        data-mask-count={maskedCount(mask)}
        data-mask-version={maskVersion}
        data-source-version={sourceVersion}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={endStroke}
        onPointerCancel={endStroke}
        onPointerLeave={() => moveCursor(null)}
        onContextMenu={(e) => e.preventDefault()}
      />
      <div
        ref={cursorRef}
        className={`brush-cursor tool-${tool}`}
        aria-hidden="true"
        style={{
          width: `${(brushSize / IMAGE_SIZE) * 100}%`,
          height: `${(brushSize / IMAGE_SIZE) * 100}%`,
        }}
      />
    </div>
  );
}
