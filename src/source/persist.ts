// Saves the user's source image and mask in sessionStorage so a reload (or a crash of the tab's
// renderer) does not throw away their work. Stored data is untrusted on the way back in: anything
// malformed, of the wrong size, or out of range is dropped field by field, never thrown. The record
// names the geometry its image and mask have (28x28 grey, 32x32 colour); a record from before
// geometry was saved is 28x28 grey. The store converts a restored image to the loaded model's
// geometry once the model is known.
import { GREY_28, isGeometry, pixelCount, valueCount, type SourceGeometry } from './geometry';
import { hexToSigned, isImageArray } from './pixels';
import { MAX_BRUSH, MAX_FEATHER, MIN_BRUSH } from './mask';

export const STORAGE_KEY = 'diffusion-playground/source@1';

export type SourceMode = 'none' | 'inpaint' | 'img2img';
export type Tool = 'brush' | 'eraser' | 'draw';

export interface SavedSource {
  /** The geometry `pixels` and `paintedMask` have. */
  geometry: SourceGeometry;
  mode: SourceMode;
  strength: number;
  feather: number;
  brushSize: number;
  tool: Tool;
  pixels: Float32Array | null;
  /** The mask as painted (before feathering). */
  paintedMask: Float32Array | null;
  sourceLabel: string | null;
  /** The Draw tool's colour on colour images, "#rrggbb". */
  brushColour: string;
}

type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export function float32ToBase64(values: Float32Array): string {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary);
}

/** null when the text is not base64 of whole float32 values. */
export function base64ToFloat32(text: unknown): Float32Array | null {
  if (typeof text !== 'string') return null;
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return null;
  }
  if (binary.length % 4 !== 0) return null;
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

export function encodeSaved(saved: SavedSource): string {
  return JSON.stringify({
    geometry: { size: saved.geometry.size, channels: saved.geometry.channels },
    mode: saved.mode,
    strength: saved.strength,
    feather: saved.feather,
    brushSize: saved.brushSize,
    tool: saved.tool,
    pixels: saved.pixels ? float32ToBase64(saved.pixels) : null,
    paintedMask: saved.paintedMask ? float32ToBase64(saved.paintedMask) : null,
    sourceLabel: saved.sourceLabel,
    brushColour: saved.brushColour,
  });
}

function numberIn(value: unknown, lo: number, hi: number): number | undefined {
  return typeof value === 'number' && value >= lo && value <= hi ? value : undefined;
}

/** The valid parts of a stored record; fields that fail validation are left out. */
export function decodeSaved(text: string | null): Partial<SavedSource> {
  if (!text) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return {};
  const r = raw as Record<string, unknown>;
  // Records written before geometry was saved hold 28x28 grey images.
  const geometry = r.geometry === undefined ? GREY_28 : isGeometry(r.geometry) ? r.geometry : null;
  const out: Partial<SavedSource> = {};
  if (geometry) out.geometry = { size: geometry.size, channels: geometry.channels };
  if (r.mode === 'none' || r.mode === 'inpaint' || r.mode === 'img2img') out.mode = r.mode;
  if (r.tool === 'brush' || r.tool === 'eraser' || r.tool === 'draw') out.tool = r.tool;
  const strength = numberIn(r.strength, 0, 1);
  if (strength !== undefined) out.strength = strength;
  const feather = numberIn(r.feather, 0, MAX_FEATHER);
  if (feather !== undefined) out.feather = feather;
  const brushSize = numberIn(r.brushSize, MIN_BRUSH, MAX_BRUSH);
  if (brushSize !== undefined && Number.isInteger(brushSize)) out.brushSize = brushSize;
  // An image or mask of another size than the record says is dropped, not guessed at.
  const pixels = geometry ? base64ToFloat32(r.pixels) : null;
  if (geometry && pixels && isImageArray(pixels, -1, 1, valueCount(geometry))) out.pixels = pixels;
  const mask = geometry ? base64ToFloat32(r.paintedMask) : null;
  if (geometry && mask && isImageArray(mask, 0, 1, pixelCount(geometry))) out.paintedMask = mask;
  if (typeof r.brushColour === 'string' && hexToSigned(r.brushColour)) {
    out.brushColour = r.brushColour.toLowerCase();
  }
  if (typeof r.sourceLabel === 'string' && r.sourceLabel.length <= 200) {
    out.sourceLabel = r.sourceLabel;
  }
  return out;
}

/** sessionStorage when the page may use it (it throws in some privacy modes), else null. */
export function sessionStore(): KeyValueStorage | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null;
  }
}

export function loadSaved(storage: KeyValueStorage | null): Partial<SavedSource> {
  if (!storage) return {};
  try {
    return decodeSaved(storage.getItem(STORAGE_KEY));
  } catch {
    return {};
  }
}

/** Returns false when the write failed (quota, storage disabled); the app keeps working. */
export function writeSaved(storage: KeyValueStorage | null, saved: SavedSource): boolean {
  if (!storage) return false;
  try {
    storage.setItem(STORAGE_KEY, encodeSaved(saved));
    return true;
  } catch {
    return false;
  }
}
