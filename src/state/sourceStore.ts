// The source image and inpainting mask the user edits, kept apart from the run settings so that
// changing the model, sampler or steps never touches them. Saved to sessionStorage (restored on
// reload); every edit that changes pixels or mask can be undone.
import { create } from 'zustand';
import { PIXEL_COUNT } from '../source/grid';
import {
  MAX_BRUSH,
  MAX_FEATHER,
  MIN_BRUSH,
  drawSegment,
  emptyMask,
  featherMask,
  fullMask,
  invertMask,
  paintSegment,
  type Point,
} from '../source/mask';
import {
  loadSaved,
  sessionStore,
  writeSaved,
  type SavedSource,
  type SourceMode,
  type Tool,
} from '../source/persist';
import { blankSource, invertSigned, isImageArray } from '../source/pixels';
import { createUndoStack, popUndo, pushUndo, type UndoStack } from '../source/undoStack';

export type { SourceMode, Tool } from '../source/persist';

interface Snapshot {
  pixels: Float32Array | null;
  paintedMask: Float32Array;
  sourceLabel: string | null;
}

export interface SourceState {
  mode: SourceMode;
  /** 28*28 grayscale, values in [-1, 1]; null until the user picks, uploads or draws one. */
  pixels: Float32Array | null;
  /** 28*28, 1 = regenerate, 0 = keep: the painted mask with feathering applied. */
  mask: Float32Array;
  /** img2img: 0 keeps the source, 1 starts from pure noise. */
  strength: number;
  /** Increments on every change of `mask`. */
  maskVersion: number;
  /** Increments on every change of `pixels`. */
  sourceVersion: number;
  /** The mask as painted, before feathering (what Brush and Eraser edit). */
  paintedMask: Float32Array;
  /** Soft edge in pixels grown outward from the painted mask; 0 = hard mask. */
  feather: number;
  tool: Tool;
  /** Brush diameter in source pixels. */
  brushSize: number;
  /** Where the source came from, e.g. "MNIST test #3 (0)". */
  sourceLabel: string | null;
  /** A note on how an upload was converted. */
  sourceNote: string | null;
  /** Why the last upload was refused; cleared by the next successful change. */
  error: string | null;
  undoStack: UndoStack<Snapshot>;
  /** Edits undone since the last new edit, newest last; any new edit empties it. */
  redoStack: UndoStack<Snapshot>;

  setMode(mode: SourceMode): void;
  setStrength(strength: number): void;
  setSource(pixels: Float32Array, label: string, note?: string | null): void;
  /** A black source to draw on, with the Draw tool selected. */
  startDrawing(): void;
  invertSource(): void;
  setTool(tool: Tool): void;
  setBrushSize(size: number): void;
  setFeather(feather: number): void;
  /** Call once when a stroke starts, so the whole stroke undoes as one step. */
  beginStroke(): void;
  /** Paints with the current tool from one pointer position to the next (image pixels). */
  strokeTo(from: Point, to: Point): void;
  clearMask(): void;
  invertMask(): void;
  fillMask(): void;
  undo(): void;
  redo(): void;
  setError(message: string | null): void;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

function snapshot(s: SourceState): Snapshot {
  return { pixels: s.pixels, paintedMask: s.paintedMask, sourceLabel: s.sourceLabel };
}

/** The history for a new edit: the state before it can be undone, and redo starts over. */
function recordEdit(s: SourceState) {
  return {
    undoStack: pushUndo(s.undoStack, snapshot(s)),
    redoStack: createUndoStack<Snapshot>(s.redoStack.limit),
  };
}

/** The partial state that puts a snapshot back (undo or redo). */
function restore(s: SourceState, item: Snapshot) {
  return {
    ...(item.paintedMask === s.paintedMask ? {} : withMask(s, item.paintedMask)),
    pixels: item.pixels,
    sourceLabel: item.sourceLabel,
    sourceVersion: item.pixels === s.pixels ? s.sourceVersion : s.sourceVersion + 1,
  };
}

/** The partial state for a new painted mask: recomputes the feathered mask and bumps its version. */
function withMask(s: SourceState, paintedMask: Float32Array, feather = s.feather) {
  return {
    paintedMask,
    feather,
    mask: featherMask(paintedMask, feather),
    maskVersion: s.maskVersion + 1,
  };
}

function initialState(saved: Partial<SavedSource>) {
  const paintedMask = saved.paintedMask ?? emptyMask();
  const feather = saved.feather ?? 0;
  return {
    mode: saved.mode ?? ('none' as SourceMode),
    pixels: saved.pixels ?? null,
    mask: featherMask(paintedMask, feather),
    strength: saved.strength ?? 0.6,
    maskVersion: 0,
    sourceVersion: 0,
    paintedMask,
    feather,
    tool: saved.tool ?? ('brush' as Tool),
    brushSize: saved.brushSize ?? 3,
    sourceLabel: saved.pixels ? (saved.sourceLabel ?? null) : null,
    sourceNote: null,
    error: null,
    undoStack: createUndoStack<Snapshot>(50),
    redoStack: createUndoStack<Snapshot>(50),
  };
}

export const useSourceStore = create<SourceState>((set, get) => ({
  ...initialState(loadSaved(sessionStore())),

  setMode: (mode) => set({ mode }),
  setStrength: (strength) => {
    if (Number.isFinite(strength)) set({ strength: clamp(strength, 0, 1) });
  },
  setSource: (pixels, label, note = null) => {
    if (!isImageArray(pixels, -1, 1)) {
      set({ error: `A source image must be ${PIXEL_COUNT} values in [-1, 1]` });
      return;
    }
    set((s) => ({
      ...recordEdit(s),
      pixels: pixels.slice(),
      sourceLabel: label,
      sourceNote: note,
      sourceVersion: s.sourceVersion + 1,
      error: null,
    }));
  },
  startDrawing: () => {
    get().setSource(blankSource(), 'Drawing');
    set({ tool: 'draw' });
  },
  invertSource: () => {
    const { pixels } = get();
    if (!pixels) return;
    set((s) => ({
      ...recordEdit(s),
      pixels: invertSigned(pixels),
      sourceVersion: s.sourceVersion + 1,
    }));
  },
  setTool: (tool) => set({ tool }),
  setBrushSize: (size) => {
    if (Number.isFinite(size)) set({ brushSize: clamp(Math.round(size), MIN_BRUSH, MAX_BRUSH) });
  },
  setFeather: (feather) => {
    if (!Number.isFinite(feather)) return;
    set((s) => withMask(s, s.paintedMask, clamp(feather, 0, MAX_FEATHER)));
  },
  beginStroke: () => {
    set((s) => {
      // Drawing needs something to draw on: a first stroke on no source starts a black one.
      const startsDrawing = s.tool === 'draw' && !s.pixels;
      return {
        ...recordEdit(s),
        ...(startsDrawing
          ? { pixels: blankSource(), sourceLabel: 'Drawing', sourceVersion: s.sourceVersion + 1 }
          : {}),
      };
    });
  },
  strokeTo: (from, to) => {
    set((s) => {
      if (s.tool === 'draw') {
        if (!s.pixels) return {};
        return {
          pixels: drawSegment(s.pixels, from, to, s.brushSize),
          sourceVersion: s.sourceVersion + 1,
          error: null,
        };
      }
      const value = s.tool === 'brush' ? 1 : 0;
      return withMask(s, paintSegment(s.paintedMask, from, to, s.brushSize, value));
    });
  },
  clearMask: () => set((s) => ({ ...recordEdit(s), ...withMask(s, emptyMask()) })),
  invertMask: () =>
    set((s) => ({
      ...recordEdit(s),
      ...withMask(s, invertMask(s.paintedMask)),
    })),
  fillMask: () => set((s) => ({ ...recordEdit(s), ...withMask(s, fullMask()) })),
  undo: () => {
    set((s) => {
      const { item, stack } = popUndo(s.undoStack);
      if (!item) return {};
      return {
        undoStack: stack,
        redoStack: pushUndo(s.redoStack, snapshot(s)),
        ...restore(s, item),
      };
    });
  },
  redo: () => {
    set((s) => {
      const { item, stack } = popUndo(s.redoStack);
      if (!item) return {};
      return {
        redoStack: stack,
        undoStack: pushUndo(s.undoStack, snapshot(s)),
        ...restore(s, item),
      };
    });
  },
  setError: (error) => set({ error }),
}));

// Persist after edits settle (a stroke fires dozens of changes a second) and when the page hides.
let saveTimer: ReturnType<typeof setTimeout> | null = null;

function saveNow(): void {
  if (saveTimer !== null) clearTimeout(saveTimer);
  saveTimer = null;
  const s = useSourceStore.getState();
  writeSaved(sessionStore(), {
    mode: s.mode,
    strength: s.strength,
    feather: s.feather,
    brushSize: s.brushSize,
    tool: s.tool,
    pixels: s.pixels,
    paintedMask: s.paintedMask,
    sourceLabel: s.sourceLabel,
  });
}

useSourceStore.subscribe(() => {
  if (saveTimer === null) saveTimer = setTimeout(saveNow, 150);
});
if (typeof window !== 'undefined') window.addEventListener('pagehide', saveNow);
