import { describe, expect, it } from 'vitest';
import { createUndoStack, popUndo, pushUndo } from '../../src/source/undoStack';

describe('undo stack', () => {
  it('pops in reverse order and reports empty', () => {
    let stack = createUndoStack<number>(10);
    stack = pushUndo(pushUndo(stack, 1), 2);
    let popped = popUndo(stack);
    expect(popped.item).toBe(2);
    popped = popUndo(popped.stack);
    expect(popped.item).toBe(1);
    popped = popUndo(popped.stack);
    expect(popped.item).toBeNull();
    expect(popped.stack.items).toEqual([]);
  });

  it('forgets the oldest entries beyond its limit', () => {
    let stack = createUndoStack<number>(3);
    for (let i = 1; i <= 5; i++) stack = pushUndo(stack, i);
    expect(stack.items).toEqual([3, 4, 5]);
  });

  it('is persistent: pushing does not change an older stack', () => {
    const a = pushUndo(createUndoStack<string>(), 'x');
    const b = pushUndo(a, 'y');
    expect(a.items).toEqual(['x']);
    expect(b.items).toEqual(['x', 'y']);
  });

  it('refuses a non-positive limit', () => {
    expect(() => createUndoStack(0)).toThrow();
  });
});
