// The source image and inpainting mask the user edits, kept apart from the run settings so that
// changing the sampler or steps never touches them. Saved to sessionStorage (restored on reload);
// every edit that changes pixels or mask can be undone. The image and mask have the loaded
// model's geometry (28x28 grey, 32x32 colour): when the model changes (src/sourceLink.ts calls
// setGeometry), everything the person made is converted, undo history included.
import { create } from 'zustand';
import { convertMask, convertPixels } from '../source/convert';
import {
  GREY_28,
  describeGeometry,
  geometryOfLength,
  sameGeometry,
  valueCount,
  type SourceGeometry,
} from '../source/geometry';
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
import { blankSource, hexToSigned, invertSigned, isImageArray } from '../source/pixels';
import { createUndoStack, popUndo, pushUndo, type UndoStack } from '../source/undoStack';

export type { SourceMode, Tool } from '../source/persist';

interface Snapshot {
  pixels: Float32Array | null;
  paintedMask: Float32Array;
  sourceLabel: string | null;
}

/** What a geometry change replaced, so switching back before any edit restores it exactly. */
interface BeforeConversion {
  geometry: SourceGeometry;
  pixels: Float32Array | null;
  paintedMask: Float32Array;
  undoStack: UndoStack<Snapshot>;
  redoStack: UndoStack<Snapshot>;
  /** What the conversion made: still current means nothing was edited since. */
  convertedPixels: Float32Array | null;
  convertedMask: Float32Array;
}

export interface SourceState {
  /** The shape of `pixels` (size x size x channels, HWC) and of the masks (size x size). */
  geometry: SourceGeometry;
  mode: SourceMode;
  /** The source image, values in [-1, 1]; null until the user picks, uploads or draws one. */
  pixels: Float32Array | null;
  /** size*size, 1 = regenerate, 0 = keep: the painted mask with feathering applied. */
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
  /** The Draw tool's colour on a colour source, "#rrggbb" (grey sources are drawn in white). */
  brushColour: string;
  /** Where the source came from, e.g. "MNIST test #3 (0)". */
  sourceLabel: string | null;
  /** A note on how an upload was converted. */
  sourceNote: string | null;
  /** Why the last upload was refused; cleared by the next successful change. */
  error: string | null;
  undoStack: UndoStack<Snapshot>;
  /** Edits undone since the last new edit, newest last; any new edit empties it. */
  redoStack: UndoStack<Snapshot>;
  beforeConversion: BeforeConversion | null;

  /** Converts image, mask and history to a new geometry (the loaded model's). */
  setGeometry(geometry: SourceGeometry): void;
  setMode(mode: SourceMode): void;
  setStrength(strength: number): void;
  /**
   * A new source image. `pixels` may have another geometry than the store's (an example of
   * another data set, a frame of another model): it is converted. Without `geometry` it is read
   * from the length (the store's own first, then any square grey or RGB image).
   */
  setSource(
    pixels: Float32Array,
    label: string,
    note?: string | null,
    geometry?: SourceGeometry,
  ): void;
  /** A blank source to draw on (black for grey models, white for colour), Draw tool selected. */
  startDrawing(): void;
  invertSource(): void;
  setTool(tool: Tool): void;
  setBrushSize(size: number): void;
  /** "#rrggbb"; anything else is ignored. */
  setBrushColour(colour: string): void;
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

/** A snapshot's image and mask at another geometry. */
function convertSnapshot(item: Snapshot, from: SourceGeometry, to: SourceGeometry): Snapshot {
  return {
    ...item,
    pixels: item.pixels ? convertPixels(item.pixels, from, to) : null,
    paintedMask: convertMask(item.paintedMask, from, to),
  };
}

function convertStack(
  stack: UndoStack<Snapshot>,
  from: SourceGeometry,
  to: SourceGeometry,
): UndoStack<Snapshot> {
  return { ...stack, items: stack.items.map((item) => convertSnapshot(item, from, to)) };
}

/** The partial state that puts the store at geometry `to`, converting what is there. */
function converted(s: SourceState, to: SourceGeometry): Partial<SourceState> {
  const memo = s.beforeConversion;
  const unedited =
    memo !== null &&
    sameGeometry(memo.geometry, to) &&
    memo.convertedPixels === s.pixels &&
    memo.convertedMask === s.paintedMask;
  if (unedited) {
    // Back to the geometry the work was made at, untouched since: the originals, bit for bit.
    return {
      geometry: to,
      pixels: memo.pixels,
      ...withMask(s, memo.paintedMask),
      undoStack: memo.undoStack,
      redoStack: memo.redoStack,
      sourceVersion: s.sourceVersion + 1,
      beforeConversion: null,
    };
  }
  const from = s.geometry;
  const pixels = s.pixels ? convertPixels(s.pixels, from, to) : null;
  const paintedMask = convertMask(s.paintedMask, from, to);
  return {
    geometry: to,
    pixels,
    ...withMask(s, paintedMask),
    undoStack: convertStack(s.undoStack, from, to),
    redoStack: convertStack(s.redoStack, from, to),
    sourceVersion: s.sourceVersion + 1,
    beforeConversion: {
      geometry: from,
      pixels: s.pixels,
      paintedMask: s.paintedMask,
      undoStack: s.undoStack,
      redoStack: s.redoStack,
      convertedPixels: pixels,
      convertedMask: paintedMask,
    },
  };
}

/** The geometry of pixels handed to setSource, or null when they fit no square image. */
function incomingGeometry(
  pixels: Float32Array,
  store: SourceGeometry,
  given: SourceGeometry | undefined,
): SourceGeometry | null {
  if (given) return pixels.length === valueCount(given) ? given : null;
  if (pixels.length === valueCount(store)) return store;
  return geometryOfLength(pixels.length);
}

const DEFAULT_BRUSH_COLOUR = '#000000';

function initialState(saved: Partial<SavedSource>) {
  const geometry = saved.geometry ?? GREY_28;
  const paintedMask = saved.paintedMask ?? emptyMask(geometry.size);
  const feather = saved.feather ?? 0;
  return {
    geometry,
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
    brushColour: saved.brushColour ?? DEFAULT_BRUSH_COLOUR,
    sourceLabel: saved.pixels ? (saved.sourceLabel ?? null) : null,
    sourceNote: null,
    error: null,
    undoStack: createUndoStack<Snapshot>(50),
    redoStack: createUndoStack<Snapshot>(50),
    beforeConversion: null,
  };
}

export const useSourceStore = create<SourceState>((set, get) => ({
  ...initialState(loadSaved(sessionStore())),

  setGeometry: (geometry) => {
    if (sameGeometry(geometry, get().geometry)) return;
    set((s) => converted(s, geometry));
  },
  setMode: (mode) => set({ mode }),
  setStrength: (strength) => {
    if (Number.isFinite(strength)) set({ strength: clamp(strength, 0, 1) });
  },
  setSource: (pixels, label, note = null, given) => {
    const { geometry } = get();
    const from = incomingGeometry(pixels, geometry, given);
    if (!from || !isImageArray(pixels, -1, 1, valueCount(from))) {
      set({
        error:
          `A source image must be ${valueCount(geometry)} values in [-1, 1] ` +
          `(${describeGeometry(geometry)}), or another square grey or colour image to convert`,
      });
      return;
    }
    const same = sameGeometry(from, geometry);
    const conversion = same
      ? null
      : `converted from ${describeGeometry(from)} to ${describeGeometry(geometry)}`;
    set((s) => ({
      ...recordEdit(s),
      pixels: same ? pixels.slice() : convertPixels(pixels, from, geometry),
      sourceLabel: label,
      sourceNote: [note, conversion].filter(Boolean).join('; ') || null,
      sourceVersion: s.sourceVersion + 1,
      error: null,
    }));
  },
  startDrawing: () => {
    get().setSource(blankSource(get().geometry), 'Drawing');
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
  setBrushColour: (colour) => {
    if (hexToSigned(colour)) set({ brushColour: colour.toLowerCase() });
  },
  setFeather: (feather) => {
    if (!Number.isFinite(feather)) return;
    set((s) => withMask(s, s.paintedMask, clamp(feather, 0, MAX_FEATHER)));
  },
  beginStroke: () => {
    set((s) => {
      // Drawing needs something to draw on: a first stroke on no source starts a blank one.
      const startsDrawing = s.tool === 'draw' && !s.pixels;
      return {
        ...recordEdit(s),
        ...(startsDrawing
          ? {
              pixels: blankSource(s.geometry),
              sourceLabel: 'Drawing',
              sourceVersion: s.sourceVersion + 1,
            }
          : {}),
      };
    });
  },
  strokeTo: (from, to) => {
    set((s) => {
      if (s.tool === 'draw') {
        if (!s.pixels) return {};
        return {
          pixels: drawSegment(
            s.pixels,
            from,
            to,
            s.brushSize,
            hexToSigned(s.brushColour) ?? [-1, -1, -1],
          ),
          sourceVersion: s.sourceVersion + 1,
          error: null,
        };
      }
      const value = s.tool === 'brush' ? 1 : 0;
      return withMask(s, paintSegment(s.paintedMask, from, to, s.brushSize, value));
    });
  },
  clearMask: () => set((s) => ({ ...recordEdit(s), ...withMask(s, emptyMask(s.geometry.size)) })),
  invertMask: () =>
    set((s) => ({
      ...recordEdit(s),
      ...withMask(s, invertMask(s.paintedMask)),
    })),
  fillMask: () => set((s) => ({ ...recordEdit(s), ...withMask(s, fullMask(s.geometry.size)) })),
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
    geometry: s.geometry,
    mode: s.mode,
    strength: s.strength,
    feather: s.feather,
    brushSize: s.brushSize,
    tool: s.tool,
    pixels: s.pixels,
    paintedMask: s.paintedMask,
    sourceLabel: s.sourceLabel,
    brushColour: s.brushColour,
  });
}

useSourceStore.subscribe(() => {
  if (saveTimer === null) saveTimer = setTimeout(saveNow, 150);
});
if (typeof window !== 'undefined') window.addEventListener('pagehide', saveNow);
