import { useMemo } from 'react';
import { useAppStore } from '../store';
import type { ViewBytes } from '../worker/protocol';
import { ViewCanvas } from './ViewCanvas';

/**
 * The score s(x_t) = -eps / sigma_t (Song et al.) drawn as its direction: the predicted noise's
 * bytes (eps / 4 + 0.5, frameBytes.ts) mirrored, i.e. -eps on the same scale. Its length, 1 /
 * sigma_t times that of eps, is in the step readout's sigma.
 */
function scoreDirection(noise: ViewBytes): ViewBytes {
  if (!noise) return null;
  const source = new Uint8Array(noise);
  const out = new Uint8Array(source.length);
  for (let i = 0; i < source.length; i++) out[i] = 255 - source[i];
  return out.buffer;
}

/**
 * The model's other views of the frame the timeline points at; x_t itself is the main view
 * (layout/MainView).
 */
export function FrameViews() {
  const frame = useAppStore((s) => s.frames[s.currentFrame] ?? null);
  const noise = frame?.predictedNoise ?? null;
  const score = useMemo(() => scoreDirection(noise), [noise]);
  return (
    <section className="frame-views" aria-label="Views">
      {/* Latent pipelines: x_t as the U-Net sees it (the main view shows it decoded). */}
      {frame?.latent !== undefined && (
        <ViewCanvas label="Latent x_t" frame={frame} bytes={frame.latent} />
      )}
      <ViewCanvas label="Predicted x_0" frame={frame} bytes={frame?.predictedX0 ?? null} />
      <ViewCanvas label="Predicted noise" frame={frame} bytes={noise} />
      <ViewCanvas label="Score direction −ε/σ_t" frame={frame} bytes={score} />
    </section>
  );
}
