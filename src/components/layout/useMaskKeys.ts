// Keys for painting on the main view, as image editors have them: [ and ] make the brush smaller
// and larger, Ctrl+Z undoes, Ctrl+Shift+Z (or Ctrl+Y) redoes. A text or number field keeps its
// own keys (its own undo, its own brackets), and the Train view has no mask to edit.
import { useEffect } from 'react';
import { useSourceStore } from '../../state/sourceStore';
import { useAppView } from '../train/ViewTabs';

/** Inputs whose keys are typing, not commands (sliders, radios and buttons are not). */
const TEXT_INPUTS = new Set(['text', 'number', 'search', 'url', 'email', 'password', 'tel']);

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target.tagName === 'TEXTAREA') return true;
  return target instanceof HTMLInputElement && TEXT_INPUTS.has(target.type);
}

export function useMaskKeys(): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (isTyping(event.target) || useAppView.getState().view !== 'generate') return;
      const source = useSourceStore.getState();
      const command = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      if (command && !event.altKey && (key === 'z' || key === 'y')) {
        event.preventDefault();
        if (key === 'y' || event.shiftKey) source.redo();
        else source.undo();
      } else if (!command && !event.altKey && (event.key === '[' || event.key === ']')) {
        event.preventDefault();
        source.setBrushSize(source.brushSize + (event.key === ']' ? 1 : -1));
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
