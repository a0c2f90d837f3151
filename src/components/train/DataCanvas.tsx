// The data set: a preset's points, or a shape drawn with mouse, pen or touch (pointer events).
// Drawing on a preset starts a new drawing.
import { useEffect, useMemo, useRef } from 'react';
import { pointsFor } from './toyClient';
import { drawAxes, drawPoints, fromCanvas, prepare, type View } from './plot';
import { say, useTrainStore } from './trainStore';

export const CANVAS_SIZE = 320;
/** Distance between points laid along a stroke, and their scatter, in data units. */
const STROKE_SPACING = 0.05;
const STROKE_JITTER = 0.04;
/** A drawing stops growing here (the worker would thin it anyway). */
export const MAX_DRAWN_POINTS = 20000;

function gaussian(): number {
  return Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
}

export function usePoints(): Float32Array | null {
  const data = useTrainStore((s) => s.data);
  const text = useTrainStore((s) => s.text);
  const drawn = useTrainStore((s) => s.drawn);
  return useMemo(() => {
    const chosen = pointsFor(data, text, drawn);
    return 'points' in chosen ? chosen.points : null;
  }, [data, text, drawn]);
}

export function DataCanvas() {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const last = useRef<[number, number] | null>(null);
  const points = usePoints();
  const view: View = { size: CANVAS_SIZE };

  useEffect(() => {
    const canvas = canvasRef.current;
    const ctx = canvas && prepare(canvas, CANVAS_SIZE);
    if (!ctx) return;
    drawAxes(ctx, { size: CANVAS_SIZE });
    if (points) drawPoints(ctx, { size: CANVAS_SIZE }, points, '#111827');
  }, [points]);

  const addStroke = (to: [number, number]) => {
    // A stroke's first point is one point (a click adds exactly one); later ones fill the gap.
    const from = last.current ?? to;
    const steps = last.current
      ? Math.ceil(Math.hypot(to[0] - from[0], to[1] - from[1]) / STROKE_SPACING)
      : 1;
    const fresh: number[] = [];
    for (let i = 1; i <= steps; i++) {
      const x = from[0] + ((to[0] - from[0]) * i) / steps + STROKE_JITTER * gaussian();
      const y = from[1] + ((to[1] - from[1]) * i) / steps + STROKE_JITTER * gaussian();
      fresh.push(x, y);
    }
    last.current = to;
    const state = useTrainStore.getState();
    const base = state.data === 'drawn' ? state.drawn : [];
    if (base.length / 2 >= MAX_DRAWN_POINTS) return;
    const room = 2 * MAX_DRAWN_POINTS - base.length;
    if (fresh.length > room)
      say(
        'info',
        `A drawing holds at most ${MAX_DRAWN_POINTS} points; the rest of this stroke was dropped.`,
      );
    useTrainStore.setState({ data: 'drawn', drawn: base.concat(fresh.slice(0, room)) });
  };

  const position = (event: React.PointerEvent<HTMLCanvasElement>): [number, number] => {
    const rect = event.currentTarget.getBoundingClientRect();
    return fromCanvas(
      view,
      ((event.clientX - rect.left) * CANVAS_SIZE) / rect.width,
      ((event.clientY - rect.top) * CANVAS_SIZE) / rect.height,
    );
  };

  return (
    <figure className="train-figure">
      <canvas
        ref={canvasRef}
        aria-label="Data"
        className="train-canvas drawable"
        style={{ width: CANVAS_SIZE, height: CANVAS_SIZE }}
        onPointerDown={(event) => {
          event.currentTarget.setPointerCapture(event.pointerId);
          last.current = null;
          addStroke(position(event));
        }}
        onPointerMove={(event) => {
          if (last.current && event.buttons !== 0) addStroke(position(event));
        }}
        onPointerUp={() => {
          last.current = null;
        }}
        onPointerCancel={() => {
          last.current = null;
        }}
      />
      <figcaption>
        Data: {points ? points.length / 2 : 0} points. Draw here with the mouse, a pen or a finger.
      </figcaption>
    </figure>
  );
}
