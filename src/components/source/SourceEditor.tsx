// The source image panel: pick or make a source, choose how a run uses it, and read what the
// mask covers; and the source under the forward (noising) process.
import { useMemo } from 'react';
import type { NoiseScheduleConfig } from '../../engine/schedule/betas';
import { useAppStore } from '../../store';
import { maskedCount } from '../../source/mask';
import { pixelCount } from '../../source/geometry';
import { useSourceStore } from '../../state/sourceStore';
import { ForwardProcessView } from './ForwardProcessView';
import { MaskCommands } from './MaskTools';
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
  const total = useSourceStore((s) => pixelCount(s.geometry));

  return (
    <div className="source-status">
      <p data-testid="source-label">
        Source: {hasSource ? label : 'none yet: pick an example, upload an image or draw one'}
        {note && <span className="hint"> ({note})</span>}
      </p>
      <p data-testid="mask-count">
        Mask: {count} of {total} pixels re-imagined
      </p>
      {mode !== 'none' && !hasSource && (
        <p className="source-warning">
          {mode === 'inpaint' ? 'Inpainting' : 'img2img'} needs a source image.
        </p>
      )}
      {mode === 'none' && count > 0 && (
        <p className="hint">Choose Inpaint to re-imagine the painted part.</p>
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

/** The forward process of the loaded model's own schedule (linear for mnist-linear). */
export function ModelForwardProcess() {
  const modelSchedule = useAppStore((s) => s.model?.schedule);
  const schedule = useMemo(
    () => (modelSchedule ? { ...modelSchedule, trained_betas: null } : undefined),
    [modelSchedule],
  ) as NoiseScheduleConfig | undefined;
  return <ForwardProcessView schedule={schedule} />;
}

/**
 * Where the source comes from and what a run does with it. The mask is painted on the main view
 * (layout/MainView) with its tools above it (MaskTools).
 */
export function SourceEditor() {
  return (
    <section className="source-editor" aria-label="Source image and mask">
      <SourceModeControls />
      <SourcePicker />
      <SourceStatus />
      <MaskCommands />
    </section>
  );
}
