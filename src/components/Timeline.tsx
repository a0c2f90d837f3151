import { useAppStore } from '../store';

/** Scrubs through the frames received so far; any earlier frame can be shown again. */
export function Timeline() {
  const count = useAppStore((s) => s.frames.length);
  const current = useAppStore((s) => s.currentFrame);
  const showFrame = useAppStore((s) => s.showFrame);
  return (
    <label className="timeline">
      Timeline
      <input
        type="range"
        min={0}
        max={Math.max(0, count - 1)}
        step={1}
        value={Math.min(current, Math.max(0, count - 1))}
        disabled={count < 2}
        onChange={(e) => showFrame(Number(e.target.value))}
      />
      <span className="timeline-count">
        frame {count === 0 ? 0 : current + 1} of {count}
      </span>
    </label>
  );
}
