// The source image and inpainting mask editor: pick or make a source, paint what to re-imagine,
// choose how a run uses it, and look at the source under the forward (noising) process.
import { useMemo, type KeyboardEvent } from 'react';
import type { NoiseScheduleConfig } from '../../engine/schedule/betas';
import { useAppStore } from '../../store';
import { maskedCount } from '../../source/mask';
import { PIXEL_COUNT } from '../../source/grid';
import { useSourceStore } from '../../state/sourceStore';
import { ForwardProcessView } from './ForwardProcessView';
import { MaskCanvas } from './MaskCanvas';
import { MaskTools } from './MaskTools';
import { SourceModeControls } from './SourceModeControls';
import { SourcePicker } from './SourcePicker';
import './source.css';

function SourceStatus() {
  const mode = useSourceStore((s) => s.mode);
  const hasSource = useSourceStore((s) => s.pixels !== null);
  const label = useSourceStore((s) => s.sourceLabel);
  const note = useSourceStore((s) => s.sourceNote);
  const count = useSourceStore((s) => maskedCount(s.mask));
  const error = useSourceStore((s) => s.error);

  return (
    <div className="source-status">
      <p data-testid="source-label">
        Source: {hasSource ? label : 'none yet: pick an example, upload an image or draw one'}
        {note && <span className="hint"> ({note})</span>}
      </p>
      <p data-testid="mask-count">
        Mask: {count} of {PIXEL_COUNT} pixels re-imagined
      </p>
      {mode !== 'none' && !hasSource && (
        <p className="source-warning">
          {mode === 'inpaint' ? 'Inpainting' : 'img2img'} needs a source image.
        </p>
      )}
      {mode === 'inpaint' && count === 0 && (
        <p className="source-warning">Mask is empty: nothing will be re-imagined</p>
      )}
      {error && (
        <p role="alert" className="source-error">
          {error}
        </p>
      )}
    </div>
  );
}

export function SourceEditor() {
  const undo = useSourceStore((s) => s.undo);
  // The forward process of the loaded model's own schedule (linear for mnist-linear).
  const modelSchedule = useAppStore((s) => s.model?.schedule);
  const schedule = useMemo(
    () => (modelSchedule ? { ...modelSchedule, trained_betas: null } : undefined),
    [modelSchedule],
  ) as NoiseScheduleConfig | undefined;
  const onKeyDown = (event: KeyboardEvent) => {
    const target = event.target as HTMLElement;
    if (target.tagName === 'INPUT' && (target as HTMLInputElement).type === 'number') return;
    if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === 'z') {
      event.preventDefault();
      undo();
    }
  };

  return (
    <section className="source-editor" aria-label="Source image and mask" onKeyDown={onKeyDown}>
      <h2>Source image and mask</h2>
      <SourceModeControls />
      <SourcePicker />
      <div className="mask-editor">
        <MaskCanvas />
        <div className="mask-side">
          <MaskTools />
          <SourceStatus />
        </div>
      </div>
      <ForwardProcessView schedule={schedule} />
    </section>
  );
}
