// The forward process q(x_t | x_0) on the current data: the cloud noised to the chosen t, with the
// schedule's signal and noise levels, computed on this thread (plain numbers, no tfjs).
import { useEffect, useMemo, useRef } from 'react';
import {
  applyNormalization,
  fitNormalization,
  undoNormalization,
} from '../../engine/train/datasets';
import { forwardNoise, toyTables } from '../../engine/train/noiseTables';
import { CANVAS_SIZE, usePoints } from './DataCanvas';
import { drawAxes, drawPoints, prepare } from './plot';
import { useTrainStore } from './trainStore';

export function ForwardView() {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const points = usePoints();
  const model = useTrainStore((s) => s.model);
  const t = useTrainStore((s) => Math.min(s.forwardT, s.model.numTrainTimesteps - 1));
  const tables = useMemo(() => toyTables(model), [model]);
  const alphaBar = tables.alphasCumprod[t];

  useEffect(() => {
    const canvas = canvasRef.current;
    const ctx = canvas && prepare(canvas, CANVAS_SIZE);
    if (!ctx) return;
    drawAxes(ctx, { size: CANVAS_SIZE });
    if (!points || points.length === 0) return;
    const norm = fitNormalization(points);
    const noised = undoNormalization(
      forwardNoise(applyNormalization(points, norm), alphaBar, 3),
      norm,
    );
    drawPoints(ctx, { size: CANVAS_SIZE }, noised, '#7c3aed');
  }, [points, alphaBar]);

  return (
    <figure className="train-figure">
      <canvas
        ref={canvasRef}
        aria-label="Forward process"
        className="train-canvas"
        style={{ width: CANVAS_SIZE, height: CANVAS_SIZE }}
      />
      <figcaption>
        <label>
          Noise level t
          <input
            type="range"
            min={0}
            max={model.numTrainTimesteps - 1}
            value={t}
            onChange={(e) => useTrainStore.setState({ forwardT: Number(e.target.value) })}
          />
        </label>{' '}
        <span data-testid="forward-readout">
          t = {t}: x_t = {Math.sqrt(alphaBar).toFixed(3)}·x_0 + {Math.sqrt(1 - alphaBar).toFixed(3)}
          ·ε
        </span>
      </figcaption>
    </figure>
  );
}
