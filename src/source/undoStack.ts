// A bounded history of snapshots: pushing past the limit forgets the oldest, so a long painting
// session cannot grow memory without end.
export interface UndoStack<T> {
  readonly items: readonly T[];
  readonly limit: number;
}

export function createUndoStack<T>(limit = 50): UndoStack<T> {
  if (!(Number.isInteger(limit) && limit > 0)) throw new Error(`Undo limit must be positive`);
  return { items: [], limit };
}

export function pushUndo<T>(stack: UndoStack<T>, item: T): UndoStack<T> {
  const items = [...stack.items, item];
  return { ...stack, items: items.length > stack.limit ? items.slice(-stack.limit) : items };
}

/** The most recent snapshot and the stack without it; null item when there is nothing to undo. */
export function popUndo<T>(stack: UndoStack<T>): { item: T | null; stack: UndoStack<T> } {
  if (stack.items.length === 0) return { item: null, stack };
  return {
    item: stack.items[stack.items.length - 1],
    stack: { ...stack, items: stack.items.slice(0, -1) },
  };
}
