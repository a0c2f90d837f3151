// The painting surface: the source with the mask over it. Brush and Eraser paint the mask, Draw
// paints white onto the source itself. Mouse, pen and touch all arrive as pointer events; the
// pointer is captured so a stroke that leaves the canvas keeps going until release.
//
// On the main view the canvas lies over the run's frames. Before a run it shows the source with
// the mask; while the frames show it turns see-through (`ghost`) and a run's batch grid lies
// under it (`grid`): a stroke on any image of the grid paints the one mask all of them share.
import { useMemo, useRef, type CSSProperties, type PointerEvent } from 'react';
import { GRID_GAP, type GridLayout } from '../../gridImage';
import { maskedCount, type Point } from '../../source/mask';
import { maskOverlayRgba } from '../../source/render';
import { useSourceStore } from '../../state/sourceStore';
import { PixelCanvas } from './PixelCanvas';

interface Hit {
  point: Point;
  /** Which image of a grid the pointer is over (0 without a grid). */
  cell: number;
}

/** Where a client position falls: image pixels (continuous, 0..side) in the image under it. */
function hitAt(
  clientX: number,
  clientY: number,
  rect: DOMRect,
  grid: GridLayout | null,
  side: number,
): Hit {
  const fx = (clientX - rect.left) / rect.width;
  const fy = (clientY - rect.top) / rect.height;
  if (!grid) return { point: { x: fx * side, y: fy * side }, cell: 0 };
  const pitch = side + GRID_GAP;
  const gx = fx * grid.width;
  const gy = fy * grid.height;
  const col = Math.min(grid.cols - 1, Math.max(0, Math.floor(gx / pitch)));
  const row = Math.min(grid.rows - 1, Math.max(0, Math.floor(gy / pitch)));
  return { point: { x: gx - col * pitch, y: gy - row * pitch }, cell: row * grid.cols + col };
}

export function MaskCanvas({
  grid = null,
  ghost = false,
  inert = false,
  style,
}: {
  /** The batch grid of source-sized images the canvas lies over, or null for one image. */
  grid?: GridLayout | null;
  /** See-through: the layers under it show, the canvas still takes the strokes. */
  ghost?: boolean;
  /** Takes no strokes (a run whose images the mask does not line up with). */
  inert?: boolean;
  style?: CSSProperties;
}) {
  const pixels = useSourceStore((s) => s.pixels);
  const mask = useSourceStore((s) => s.mask);
  const maskVersion = useSourceStore((s) => s.maskVersion);
  const sourceVersion = useSourceStore((s) => s.sourceVersion);
  const tool = useSourceStore((s) => s.tool);
  const brushSize = useSourceStore((s) => s.brushSize);
  const beginStroke = useSourceStore((s) => s.beginStroke);
  const strokeTo = useSourceStore((s) => s.strokeTo);
  // The source's side (28 grey, 32 colour): the mask's and the brush's pixels.
  const side = useSourceStore((s) => s.geometry.size);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const stroke = useRef<{ pointerId: number; last: Point; cell: number } | null>(null);
  const cursorRef = useRef<HTMLDivElement>(null);
  const across = grid ? grid.width : side;
  const down = grid ? grid.height : side;

  /** Moves the brush outline without a React render per pointer event; null hides it. */
  const moveCursor = (event: PointerEvent<HTMLCanvasElement> | null) => {
    const cursor = cursorRef.current;
    const canvas = canvasRef.current;
    if (!cursor || !canvas) return;
    cursor.style.display = event ? 'block' : 'none';
    if (!event) return;
    const rect = canvas.getBoundingClientRect();
    cursor.style.left = `${((event.clientX - rect.left) / rect.width) * 100}%`;
    cursor.style.top = `${((event.clientY - rect.top) / rect.height) * 100}%`;
  };

  const rgba = useMemo(() => maskOverlayRgba(pixels, mask), [pixels, mask]);

  const onPointerDown = (event: PointerEvent<HTMLCanvasElement>) => {
    const canvas = canvasRef.current;
    // Only the primary button paints; a second finger or pen while painting is ignored.
    if (!canvas || event.button !== 0 || stroke.current) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    const { point, cell } = hitAt(
      event.clientX,
      event.clientY,
      canvas.getBoundingClientRect(),
      grid,
      side,
    );
    stroke.current = { pointerId: event.pointerId, last: point, cell };
    beginStroke();
    strokeTo(point, point);
  };

  const onPointerMove = (event: PointerEvent<HTMLCanvasElement>) => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    if (event.pointerType !== 'touch') moveCursor(event);
    const current = stroke.current;
    if (!current || current.pointerId !== event.pointerId) return;
    // Coalesced events are the positions the browser merged into this one frame: using them
    // follows fast curves instead of cutting corners between frames.
    const native = event.nativeEvent;
    const events =
      typeof native.getCoalescedEvents === 'function' ? native.getCoalescedEvents() : [];
    const rect = canvas.getBoundingClientRect();
    for (const e of events.length ? events : [native]) {
      const { point, cell } = hitAt(e.clientX, e.clientY, rect, grid, side);
      // Into another image of the grid: the stroke goes on there, without a line across.
      strokeTo(cell === current.cell ? current.last : point, point);
      current.last = point;
      current.cell = cell;
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
    <div
      className={`mask-canvas-wrap${ghost ? ' ghost' : ''}${inert ? ' inert' : ''}`}
      style={style}
    >
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
          width: `${(brushSize / across) * 100}%`,
          height: `${(brushSize / down) * 100}%`,
        }}
      />
    </div>
  );
}
