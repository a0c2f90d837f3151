// Outpainting: pick a canvas larger than the model's images, place the source image on it, and
// press Outpaint to run the current settings there. The run streams into the same views as any
// run, and Step, Pause, the Timeline and mid-run changes work on it the same way.
import { canvasPresets } from '../../engine/outpaint/outpaintSettings';
import { startRun } from '../../engineClient';
import { IMAGE_SIZE } from '../../source/grid';
import { useOutpaintStore } from '../../state/outpaintStore';
import { useSourceStore } from '../../state/sourceStore';
import { useAppStore } from '../../store';
import { SelectField } from '../Field';
import { NumberField } from '../NumberField';
import { CanvasPlacement } from './CanvasPlacement';
import {
  canvasChoices,
  evaluationsPerStep,
  knownImageOf,
  maskPlacement,
  outpaintRunSettings,
} from './outpaintRun';
import './outpaint.css';

/** "3 windows of 28×28 per image, 6 model evaluations per step", or null off the model's grid. */
function costLine(
  canvas: { width: number; height: number },
  size: number,
  images: number,
  guidance: number,
): string | null {
  if (canvas.width < size || canvas.height < size) return null;
  const { windows, evaluations } = evaluationsPerStep(canvas, size, images, guidance);
  return (
    `${windows} window${windows === 1 ? '' : 's'} of ${size}×${size} per image, ` +
    `${evaluations} model evaluations per step`
  );
}

export function OutpaintPanel() {
  const model = useAppStore((s) => s.model);
  const status = useAppStore((s) => s.status);
  const controls = useAppStore((s) => s.controls);
  const { canvas, placeSource, problem } = useOutpaintStore();
  const { setCanvasSize, setOffset, setPlaceSource, setProblem } = useOutpaintStore.getState();
  const pixels = useSourceStore((s) => s.pixels);
  const sourceLabel = useSourceStore((s) => s.sourceLabel);

  const size = model?.imageSize ?? IMAGE_SIZE;
  const choices = canvasChoices(canvasPresets({ height: size, width: size }), canvas);
  const placed = placeSource && pixels ? { pixels, height: IMAGE_SIZE, width: IMAGE_SIZE } : null;
  const ready = model !== null && status !== 'loading';
  const cost = costLine(canvas, size, controls.batchSize, controls.guidanceScale);

  const start = () => {
    if (!model) return;
    const source = useSourceStore.getState();
    const known = knownImageOf(source, placeSource, model);
    if (typeof known === 'string') return setProblem(known);
    const run = outpaintRunSettings(controls, model, canvas, known);
    if ('problem' in run) return setProblem(run.problem);
    setProblem(null);
    startRun(run.settings, maskPlacement(canvas, model, known));
  };

  return (
    <details className="outpaint-panel">
      <summary>Outpainting</summary>
      <p className="hint">
        Paint a canvas larger than the model’s {size}×{size}: overlapping {size}×{size} windows are
        denoised together and averaged at every step (MultiDiffusion). The source image is kept
        where you place it; in Inpaint mode its mask is re-imagined too.
      </p>
      <div className="outpaint-controls">
        <SelectField
          label="Canvas size"
          value={`${canvas.width}x${canvas.height}`}
          onChange={(e) => {
            const choice = choices.find((c) => `${c.width}x${c.height}` === e.target.value);
            if (choice) setCanvasSize(choice);
          }}
        >
          {choices.map((c) => (
            <option key={c.label} value={`${c.width}x${c.height}`}>
              {c.label}
            </option>
          ))}
        </SelectField>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={placeSource}
            onChange={(e) => setPlaceSource(e.target.checked)}
          />
          Place the source image
        </label>
        <NumberField
          label="Offset x"
          value={canvas.offsetX}
          min={0}
          max={Math.max(0, canvas.width - IMAGE_SIZE)}
          integer
          onCommit={(x) => setOffset({ x, y: canvas.offsetY })}
        />
        <NumberField
          label="Offset y"
          value={canvas.offsetY}
          min={0}
          max={Math.max(0, canvas.height - IMAGE_SIZE)}
          integer
          onCommit={(y) => setOffset({ x: canvas.offsetX, y })}
        />
      </div>
      <CanvasPlacement canvas={canvas} known={placed} onMove={setOffset} />
      <p className="hint" data-testid="outpaint-known">
        {placed
          ? `Known image: ${sourceLabel ?? 'the source'} at x ${canvas.offsetX}, y ${canvas.offsetY}; drag it to move it.`
          : placeSource
            ? 'No source image yet: the whole canvas is generated. Pick, upload or draw one below to keep it.'
            : 'The whole canvas is generated.'}
      </p>
      {cost && (
        <p className="hint" data-testid="outpaint-cost">
          {cost}
        </p>
      )}
      <button type="button" className="primary" disabled={!ready} onClick={start}>
        Outpaint
      </button>
      {problem && (
        <p role="alert" className="outpaint-problem">
          {problem}
        </p>
      )}
    </details>
  );
}
