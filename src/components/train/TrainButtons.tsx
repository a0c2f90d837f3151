// Train / Pause / Resume / Reset, and moving a trained toy model in and out as a JSON file.
import { useRef } from 'react';
import {
  exportModel,
  loadModel,
  pauseTraining,
  resetTraining,
  resumeTraining,
  train,
} from './toyClient';
import { say, useTrainStore } from './trainStore';

/** Larger files are refused before reading (a toy model at the largest settings is ~3 MB). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

export function TrainButtons() {
  const status = useTrainStore((s) => s.status);
  const fileRef = useRef<HTMLInputElement>(null);
  const hasModel = status !== 'idle';

  const onFile = async (file: File | undefined) => {
    if (!file) return;
    if (file.size === 0) return say('error', `${file.name} is empty: not a toy model.`);
    if (file.size > MAX_FILE_BYTES)
      return say('error', `${file.name} is too large to be a toy model.`);
    loadModel(await file.text());
  };

  return (
    <div className="train-buttons">
      <button type="button" onClick={train} disabled={status === 'training'}>
        Train
      </button>
      {status === 'training' ? (
        <button type="button" onClick={pauseTraining}>
          Pause
        </button>
      ) : (
        <button
          type="button"
          onClick={resumeTraining}
          disabled={status !== 'paused' && status !== 'done'}
        >
          Resume
        </button>
      )}
      <button type="button" onClick={resetTraining} disabled={!hasModel}>
        Reset
      </button>
      <button type="button" onClick={exportModel} disabled={!hasModel}>
        Export model
      </button>
      <button type="button" onClick={() => fileRef.current?.click()}>
        Load model
      </button>
      <input
        ref={fileRef}
        type="file"
        accept="application/json,.json"
        hidden
        aria-hidden="true"
        tabIndex={-1}
        onChange={(e) => {
          void onFile(e.target.files?.[0]);
          e.target.value = '';
        }}
      />
    </div>
  );
}

export function TrainStatus() {
  const s = useTrainStore();
  const words =
    s.status === 'idle'
      ? 'Not trained yet.'
      : s.status === 'training'
        ? 'Training…'
        : s.status === 'paused'
          ? 'Paused.'
          : s.status === 'done'
            ? 'Done.'
            : 'Stopped: diverged.';
  return (
    <p
      className="train-status"
      data-testid="train-status"
      data-state={s.status}
      data-step={s.step}
      data-steps-per-second={s.stepsPerSecond.toFixed(1)}
      data-backend={s.backend ?? ''}
    >
      {words} Step {s.step} of {s.maxSteps}
      {s.stepsPerSecond > 0 ? ` · ${s.stepsPerSecond.toFixed(0)} steps/s` : ''}
      {s.parameters > 0 ? ` · ${s.parameters.toLocaleString('en')} parameters` : ''}
      {s.pointsUsed
        ? ` · ${s.pointsUsed.train} training / ${s.pointsUsed.heldOut} held-out points`
        : ''}
      <br />
      <span data-testid="train-backend">
        {s.backend
          ? `Training worker backend: ${s.backend} (${s.backendReason})`
          : 'Starting the training worker…'}
      </span>
    </p>
  );
}
