import { cancel, generate, pause, resume, step, stepBack } from '../engineClient';
import { downloadBlob, framePng } from '../exportPng';
import { useAppStore } from '../store';

/** Generate and the transport buttons; Export PNG saves the x_t grid on show. */
export function RunButtons() {
  const status = useAppStore((s) => s.status);
  const canStepBack = useAppStore((s) => s.canStepBack);
  const hasModel = useAppStore((s) => s.model !== null);
  const frame = useAppStore((s) => s.frames[s.currentFrame] ?? null);
  const controls = useAppStore((s) => s.controls);
  const addMessage = useAppStore((s) => s.addMessage);
  const active = status === 'running' || status === 'paused';
  const ready = hasModel && status !== 'loading';

  const exportPng = () => {
    if (!frame) return;
    const name = `${controls.modelId ?? 'model'}-seed${controls.seed}-step${frame.step}.png`;
    framePng(frame)
      .then((blob) => downloadBlob(blob, name))
      .catch((err: Error) => addMessage(`Could not export the PNG: ${err.message}`));
  };

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
    </div>
  );
}
