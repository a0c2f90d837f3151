// The reverse process on thousands of particles: each frame is one scheduler step, drawn with
// short trails, over the learned score field -eps/sigma_t at that step's t. Sample, Play, Step and
// Step back move through the frames the worker sent.
import { useEffect, useRef, useState } from 'react';
import { findSamplerPreset } from '../../engine/samplerPresets';
import { CANVAS_SIZE, usePoints } from './DataCanvas';
import { drawArrows, drawAxes, drawPoints, drawTrails, prepare } from './plot';
import { sample } from './toyClient';
import { useTrainStore } from './trainStore';

const FRAME_MS = 80;
const TRAIL_FRAMES = 6;

export function SamplesView() {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const samples = useTrainStore((s) => s.samples);
  const frame = useTrainStore((s) => s.frame);
  const playing = useTrainStore((s) => s.playing);
  const sampling = useTrainStore((s) => s.sampling);
  const status = useTrainStore((s) => s.status);
  const points = usePoints();
  const [showField, setShowField] = useState(true);
  const lastFrame = samples ? samples.frames.length - 1 : 0;

  useEffect(() => {
    if (!playing || !samples) return;
    const timer = setInterval(() => {
      const { frame: current } = useTrainStore.getState();
      if (current >= lastFrame) useTrainStore.setState({ playing: false });
      else useTrainStore.setState({ frame: current + 1 });
    }, FRAME_MS);
    return () => clearInterval(timer);
  }, [playing, samples, lastFrame]);

  useEffect(() => {
    const canvas = canvasRef.current;
    const ctx = canvas && prepare(canvas, CANVAS_SIZE);
    if (!ctx) return;
    const view = { size: CANVAS_SIZE };
    drawAxes(ctx, view);
    if (points) drawPoints(ctx, view, points, 'rgba(17, 24, 39, 0.15)', 1);
    if (!samples) return;
    const shown = Math.min(frame, lastFrame);
    const field = samples.fieldScores[Math.min(shown, samples.fieldScores.length - 1)];
    if (showField && samples.fieldPoints && field && shown < lastFrame) {
      drawArrows(ctx, view, samples.fieldPoints, field);
    }
    drawTrails(ctx, view, samples.frames.slice(Math.max(0, shown - TRAIL_FRAMES), shown + 1));
    drawPoints(ctx, view, samples.frames[shown], '#1d4ed8', 1.2);
  }, [samples, frame, lastFrame, points, showField]);

  const go = (next: number) =>
    useTrainStore.setState({ playing: false, frame: Math.max(0, Math.min(lastFrame, next)) });
  const t = samples && frame < samples.timesteps.length ? samples.timesteps[frame] : null;
  const improvement = samples ? 1 - samples.distance / samples.baselineDistance : 0;
  const stochastic = samples ? findSamplerPreset(samples.sampler)?.stochastic : false;

  return (
    <figure className="train-figure">
      <canvas
        ref={canvasRef}
        aria-label="Samples"
        className="train-canvas"
        style={{ width: CANVAS_SIZE, height: CANVAS_SIZE }}
      />
      <figcaption>
        <div className="train-buttons">
          <button type="button" onClick={sample} disabled={sampling || status === 'idle'}>
            Sample
          </button>
          <button type="button" onClick={() => go(frame - 1)} disabled={!samples || frame === 0}>
            Step back
          </button>
          <button
            type="button"
            onClick={() => go(frame + 1)}
            disabled={!samples || frame >= lastFrame}
          >
            Step
          </button>
          <button
            type="button"
            onClick={() =>
              useTrainStore.setState({ playing: true, frame: frame >= lastFrame ? 0 : frame })
            }
            disabled={!samples || playing}
          >
            Play
          </button>
          <label>
            <input
              type="checkbox"
              checked={showField}
              onChange={(e) => setShowField(e.target.checked)}
            />
            Score field
          </label>
        </div>
        <span
          data-testid="sample-frame"
          data-frame={frame}
          data-frames={samples ? samples.frames.length : 0}
        >
          {sampling
            ? 'Sampling…'
            : samples
              ? `Step ${frame} of ${lastFrame}${t !== null ? `, t = ${t.toFixed(1)}` : ' (done)'} · ${samples.sampler}${stochastic ? ' (stochastic)' : ''}`
              : 'Press Sample to run the reverse process.'}
        </span>
        {samples && (
          <p
            data-testid="sample-distance"
            data-distance={samples.distance}
            data-baseline={samples.baselineDistance}
            className="train-distance"
          >
            MMD to held-out data (Gaussian kernels, 0.05-0.5 data std):{' '}
            {samples.distance.toFixed(3)} (pure noise: {samples.baselineDistance.toFixed(3)};{' '}
            {(100 * improvement).toFixed(0)}% closer) · sampled in {samples.seconds.toFixed(2)} s
          </p>
        )}
      </figcaption>
    </figure>
  );
}
