// The editor's store in Node (no sessionStorage here: it must still work, just not persist).
import { beforeEach, describe, expect, it } from 'vitest';
import { PIXEL_COUNT } from '../../src/source/grid';
import { maskedCount } from '../../src/source/mask';
import { useSourceStore } from '../../src/state/sourceStore';

const store = () => useSourceStore.getState();
const initial = useSourceStore.getState();

beforeEach(() => useSourceStore.setState(initial, true));

describe('source store', () => {
  it('starts with the contract defaults', () => {
    expect(store().mode).toBe('none');
    expect(store().pixels).toBeNull();
    expect(store().mask).toHaveLength(PIXEL_COUNT);
    expect(maskedCount(store().mask)).toBe(0);
    expect(store().strength).toBe(0.6);
    expect(store().maskVersion).toBe(0);
  });

  it('a brush stroke paints the mask, bumps maskVersion and undoes as one step', () => {
    store().setTool('brush');
    store().setBrushSize(1);
    store().beginStroke();
    store().strokeTo({ x: 2.5, y: 2.5 }, { x: 2.5, y: 2.5 });
    store().strokeTo({ x: 2.5, y: 2.5 }, { x: 9.5, y: 2.5 });
    expect(maskedCount(store().mask)).toBe(8);
    expect(store().maskVersion).toBe(2);
    store().undo();
    expect(maskedCount(store().mask)).toBe(0);
    expect(store().maskVersion).toBe(3);
    expect(store().undoStack.items).toHaveLength(0);
  });

  it('eraser, invert, fill and clear edit the mask; each undoes', () => {
    store().fillMask();
    expect(maskedCount(store().mask)).toBe(PIXEL_COUNT);
    store().setTool('eraser');
    store().setBrushSize(1);
    store().beginStroke();
    store().strokeTo({ x: 0.5, y: 0.5 }, { x: 3.5, y: 0.5 });
    expect(maskedCount(store().mask)).toBe(PIXEL_COUNT - 4);
    store().invertMask();
    expect(maskedCount(store().mask)).toBe(4);
    store().clearMask();
    expect(maskedCount(store().mask)).toBe(0);
    store().undo();
    expect(maskedCount(store().mask)).toBe(4);
    store().undo();
    expect(maskedCount(store().mask)).toBe(PIXEL_COUNT - 4);
    store().undo();
    store().undo();
    expect(maskedCount(store().mask)).toBe(0);
  });

  it('redo puts back what undo took, in order; a new edit forgets the undone ones', () => {
    store().setBrushSize(1);
    store().beginStroke();
    store().strokeTo({ x: 2.5, y: 2.5 }, { x: 5.5, y: 2.5 });
    store().invertMask();
    expect(maskedCount(store().mask)).toBe(PIXEL_COUNT - 4);
    store().undo();
    store().undo();
    expect(maskedCount(store().mask)).toBe(0);
    store().redo();
    expect(maskedCount(store().mask)).toBe(4);
    store().redo();
    expect(maskedCount(store().mask)).toBe(PIXEL_COUNT - 4);
    store().redo(); // nothing left to redo: no change
    expect(maskedCount(store().mask)).toBe(PIXEL_COUNT - 4);
    store().undo();
    expect(maskedCount(store().mask)).toBe(4);
    store().clearMask();
    expect(store().redoStack.items).toHaveLength(0);
    store().redo();
    expect(maskedCount(store().mask)).toBe(0);
  });

  it('feather changes the effective mask but not the painted one', () => {
    store().setBrushSize(1);
    store().beginStroke();
    store().strokeTo({ x: 14.5, y: 14.5 }, { x: 14.5, y: 14.5 });
    const version = store().maskVersion;
    store().setFeather(1);
    expect(store().maskVersion).toBe(version + 1);
    expect(maskedCount(store().paintedMask)).toBe(1);
    expect(maskedCount(store().mask)).toBe(5);
    store().setFeather(7);
    expect(store().feather).toBe(2);
  });

  it('draws white onto a black source, starting one when there is none', () => {
    store().setTool('draw');
    store().setBrushSize(2);
    store().beginStroke();
    store().strokeTo({ x: 5, y: 5 }, { x: 20, y: 5 });
    const pixels = store().pixels!;
    expect(pixels).not.toBeNull();
    // A 2 px pen along row 5 (pixel centres at y = 4.5 and 5.5 are 0.5 from the line).
    for (let x = 5; x < 20; x++) expect(pixels[5 * 28 + x]).toBe(1);
    for (let x = 5; x < 20; x++) expect(pixels[4 * 28 + x]).toBe(1);
    expect(pixels[7 * 28 + 10]).toBe(-1);
    expect(pixels.every((v) => v >= -1 && v <= 1)).toBe(true);
    expect(store().sourceLabel).toBe('Drawing');
    expect(maskedCount(store().mask)).toBe(0); // drawing leaves the mask alone
    store().undo();
    expect(store().pixels).toBeNull();
  });

  it('a new source keeps the mask; invalid pixels are refused with a message', () => {
    store().fillMask();
    const source = new Float32Array(PIXEL_COUNT).fill(0.5);
    store().setSource(source, 'test');
    expect(store().pixels![0]).toBe(0.5);
    expect(store().sourceVersion).toBe(1);
    expect(maskedCount(store().mask)).toBe(PIXEL_COUNT);
    store().setSource(new Float32Array(10), 'short');
    expect(store().error).toMatch(/784 values/);
    expect(store().sourceLabel).toBe('test');
    store().invertSource();
    expect(store().pixels![0]).toBe(-0.5);
  });

  it('clamps strength and brush size', () => {
    store().setStrength(3);
    expect(store().strength).toBe(1);
    store().setStrength(NaN);
    expect(store().strength).toBe(1);
    store().setBrushSize(0);
    expect(store().brushSize).toBe(1);
    store().setBrushSize(20);
    expect(store().brushSize).toBe(8);
  });
});
