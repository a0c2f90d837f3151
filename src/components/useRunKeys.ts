import { useEffect } from 'react';
import { playPause, step, stepBack } from '../engineClient';

/** Elements whose own keys must win: typing, menus, sliders. */
const TYPING = new Set(['INPUT', 'SELECT', 'TEXTAREA']);
/** Elements that space already activates. */
const PRESSABLE = new Set(['BUTTON', 'A', 'SUMMARY']);

/** Space = play/pause, ArrowRight = step, ArrowLeft = step back, unless focus is typing. */
export function useRunKeys(): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.altKey || event.ctrlKey || event.metaKey || event.repeat) return;
      const target = event.target as HTMLElement | null;
      if (target && (TYPING.has(target.tagName) || target.isContentEditable)) return;
      if (event.key === ' ') {
        if (target && PRESSABLE.has(target.tagName)) return;
        event.preventDefault();
        playPause();
      } else if (event.key === 'ArrowRight') {
        event.preventDefault();
        step();
      } else if (event.key === 'ArrowLeft') {
        event.preventDefault();
        stepBack();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
