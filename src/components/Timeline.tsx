import { useId } from 'react';
import { useAppStore } from '../store';

/** Scrubs through the frames received so far; any earlier frame can be shown again. */
export function Timeline() {
  const count = useAppStore((s) => s.frames.length);
  const current = useAppStore((s) => s.currentFrame);
  const showFrame = useAppStore((s) => s.showFrame);
  const id = useId();
  return (
    <div className="timeline">
      <label htmlFor={id}>Timeline</label>
      <input
        id={id}
        type="range"
        min={0}
        max={Math.max(0, count - 1)}
        step={1}
        value={Math.min(current, Math.max(0, count - 1))}
        disabled={count < 2}
        onChange={(e) => showFrame(Number(e.target.value))}
      />
      <output htmlFor={id} className="timeline-count">
        frame {count === 0 ? 0 : current + 1} of {count}
      </output>
    </div>
  );
}
