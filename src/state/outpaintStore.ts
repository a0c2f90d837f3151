// The outpainting panel's choices: the canvas size, where the known image sits on it, and
// whether there is one. Kept apart from the run controls: a run only uses them when it is
// started with Outpaint.
import { create } from 'zustand';
import type { OutpaintSettings } from '../engine/outpaint/outpaintSettings';
import { IMAGE_SIZE } from '../source/grid';

export interface OutpaintState {
  canvas: OutpaintSettings;
  /** Place the source editor's image on the canvas (else the whole canvas is generated). */
  placeSource: boolean;
  /** Why the last Outpaint press could not start a run; cleared by the next change. */
  problem: string | null;
  setCanvasSize(size: { width: number; height: number }): void;
  setOffset(offset: { x: number; y: number }): void;
  setPlaceSource(place: boolean): void;
  setProblem(problem: string | null): void;
}

export const DEFAULT_CANVAS: OutpaintSettings = { width: 56, height: 28, offsetX: 0, offsetY: 0 };

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** Offsets moved onto the canvas: the known image (the editor's, 28×28) stays inside it. */
function fitted(canvas: OutpaintSettings): OutpaintSettings {
  const maxX = Math.max(0, canvas.width - IMAGE_SIZE);
  const maxY = Math.max(0, canvas.height - IMAGE_SIZE);
  return {
    ...canvas,
    offsetX: clamp(Math.round(canvas.offsetX), 0, maxX),
    offsetY: clamp(Math.round(canvas.offsetY), 0, maxY),
  };
}

export const useOutpaintStore = create<OutpaintState>((set) => ({
  canvas: DEFAULT_CANVAS,
  placeSource: true,
  problem: null,
  setCanvasSize: ({ width, height }) =>
    set((s) => ({ canvas: fitted({ ...s.canvas, width, height }), problem: null })),
  setOffset: ({ x, y }) =>
    set((s) => ({ canvas: fitted({ ...s.canvas, offsetX: x, offsetY: y }), problem: null })),
  setPlaceSource: (placeSource) => set({ placeSource, problem: null }),
  setProblem: (problem) => set({ problem }),
}));
