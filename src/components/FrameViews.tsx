import { useAppStore } from '../store';
import { ViewCanvas } from './ViewCanvas';

/** The three views of the frame the timeline points at. */
export function FrameViews() {
  const frame = useAppStore((s) => s.frames[s.currentFrame] ?? null);
  return (
    <section className="frame-views" aria-label="Views">
      <ViewCanvas label="Noisy sample x_t" frame={frame} bytes={frame?.sample ?? null} />
      <ViewCanvas label="Predicted x_0" frame={frame} bytes={frame?.predictedX0 ?? null} />
      <ViewCanvas label="Predicted noise" frame={frame} bytes={frame?.predictedNoise ?? null} />
    </section>
  );
}
