import { useState } from 'react';
import { cancel, generate, pause, resume, step, stepBack } from '../engineClient';
import { trajectoryGif } from '../export/exportGif';
import { trajectoryWebm, webmSupport } from '../export/exportWebm';
import { trajectoryFileName } from '../export/trajectory';
import { downloadBlob, framePng } from '../exportPng';
import { useAppStore } from '../store';

/** What an export in progress shows on its button, e.g. "GIF 3/21…". */
type ExportBusy = { kind: 'gif' | 'webm'; label: string } | null;

/**
 * Generate and the transport buttons; Export PNG saves the x_t grid on show, Export GIF and
 * Export WebM the whole trajectory (src/export).
 */
export function RunButtons() {
  const status = useAppStore((s) => s.status);
  const canStepBack = useAppStore((s) => s.canStepBack);
  const hasModel = useAppStore((s) => s.model !== null);
  const frame = useAppStore((s) => s.frames[s.currentFrame] ?? null);
  const controls = useAppStore((s) => s.controls);
  const addMessage = useAppStore((s) => s.addMessage);
  const hasTrajectory = useAppStore((s) => s.frames.length >= 2);
  const [busy, setBusy] = useState<ExportBusy>(null);
  const [webm] = useState(webmSupport);
  const active = status === 'running' || status === 'paused';
  const ready = hasModel && status !== 'loading';

  const exportPng = () => {
    if (!frame) return;
    const name = `${controls.modelId ?? 'model'}-seed${controls.seed}-step${frame.step}.png`;
    framePng(frame)
      .then((blob) => downloadBlob(blob, name))
      .catch((err: Error) => addMessage(`Could not export the PNG: ${err.message}`));
  };

  /** Exports the frames held now; later frames of a running run are not included. */
  const exportTrajectory = (kind: 'gif' | 'webm') => {
    if (busy) return;
    const { frames } = useAppStore.getState();
    const name = trajectoryFileName(controls.modelId, controls.seed, frames, kind);
    const label = kind === 'gif' ? 'GIF' : 'WebM';
    setBusy({ kind, label: `${label}…` });
    const encoded =
      kind === 'gif'
        ? trajectoryGif(frames, (done, total) => setBusy({ kind, label: `GIF ${done}/${total}…` }))
        : trajectoryWebm(frames, (fraction) =>
            setBusy({ kind, label: `WebM ${Math.round(fraction * 100)}%…` }),
          );
    encoded
      .then((blob) => downloadBlob(blob, name))
      .catch((err: Error) => addMessage(`Could not export the ${label}: ${err.message}`))
      .finally(() => setBusy(null));
  };

  const noTrajectory = 'Generate first: the export shows every frame of the run';

  return (
    <div className="run-buttons" role="group" aria-label="Run">
      <button type="button" className="primary" disabled={!ready} onClick={() => generate()}>
        Generate
      </button>
      <button type="button" disabled={status !== 'running'} onClick={pause}>
        Pause
      </button>
      <button type="button" disabled={status !== 'paused'} onClick={resume}>
        Resume
      </button>
      <button type="button" disabled={!ready || status === 'done'} onClick={step}>
        Step
      </button>
      <button type="button" disabled={!canStepBack} onClick={stepBack}>
        Step back
      </button>
      <button type="button" disabled={!active} onClick={cancel}>
        Cancel
      </button>
      <button type="button" disabled={!frame} onClick={exportPng}>
        Export PNG
      </button>
      <button
        type="button"
        disabled={!hasTrajectory || busy !== null}
        aria-busy={busy?.kind === 'gif'}
        title={hasTrajectory ? 'The denoising trajectory as an animated GIF' : noTrajectory}
        onClick={() => exportTrajectory('gif')}
      >
        {busy?.kind === 'gif' ? busy.label : 'Export GIF'}
      </button>
      <button
        type="button"
        disabled={!hasTrajectory || busy !== null || !webm.ok}
        aria-busy={busy?.kind === 'webm'}
        title={
          !webm.ok
            ? webm.reason
            : hasTrajectory
              ? 'The denoising trajectory as a WebM video (recorded in real time)'
              : noTrajectory
        }
        onClick={() => exportTrajectory('webm')}
      >
        {busy?.kind === 'webm' ? busy.label : 'Export WebM'}
      </button>
    </div>
  );
}
