import { useEffect, useRef } from 'react';
import { gridPixels } from '../../gridImage';
import type { CompareSide } from '../../state/compareStore';

/** One side of a comparison: its newest x_t, and the step it is at. */
export function CompareView({
  label,
  caption,
  side,
}: {
  label: string;
  caption: string;
  side: CompareSide | null;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const frame = side?.frame ?? null;
  useEffect(() => {
    const element = canvas.current;
    const context = element?.getContext('2d');
    if (!element || !context) return;
    if (!frame) {
      context.clearRect(0, 0, element.width, element.height);
      return;
    }
    const { layout, rgba } = gridPixels(
      new Uint8Array(frame.sample),
      frame.batch,
      frame.height,
      frame.width,
      frame.channels,
    );
    element.width = layout.width;
    element.height = layout.height;
    context.putImageData(new ImageData(rgba, layout.width, layout.height), 0, 0);
  }, [frame]);
  const where = frame
    ? `step ${frame.step} of ${frame.totalSteps}${side?.done ? ', done' : ''}`
    : '';
  return (
    <figure className="compare-view" data-step={frame?.step ?? ''} data-done={side?.done ?? false}>
      <canvas
        ref={canvas}
        className="compare-canvas"
        width={28}
        height={28}
        role="img"
        aria-label={label}
      />
      <figcaption>
        {caption}
        {where && <span className="hint"> · {where}</span>}
      </figcaption>
    </figure>
  );
}
