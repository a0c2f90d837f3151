// The Train view: make 2D data, train a small diffusion model on it in a worker, watch the
// forward process, the loss and the reverse process with its learned score field.
import { useEffect } from 'react';
import { DataCanvas } from './DataCanvas';
import { ForwardView } from './ForwardView';
import { BucketChart, LossCurve } from './LossCharts';
import { SamplesView } from './SamplesView';
import { TrainButtons, TrainStatus } from './TrainButtons';
import { DataControls, ModelControls, SamplerControls } from './TrainControls';
import { startToyWorker } from './toyClient';
import { say, useTrainStore } from './trainStore';
import './train.css';

/** Where a run stood when the person left the view, to tell them what happened meanwhile. */
let leftDuringTraining: number | null = null;

function TrainMessages() {
  const messages = useTrainStore((s) => s.messages);
  return (
    <div className="train-messages">
      {messages.map((m) =>
        m.kind === 'error' ? (
          <p key={m.id} role="alert" className="train-message error">
            {m.text}
          </p>
        ) : (
          <p key={m.id} role="status" className="train-message">
            {m.text}
          </p>
        ),
      )}
    </div>
  );
}

/** The image playground's keys (Space, arrows) act on a run this view hides: keep them here. */
function swallowPlaygroundKeys(event: KeyboardEvent): void {
  if (event.key === ' ' || event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
    event.stopPropagation();
  }
}

export function TrainView() {
  useEffect(() => {
    window.addEventListener('keydown', swallowPlaygroundKeys, true);
    return () => window.removeEventListener('keydown', swallowPlaygroundKeys, true);
  }, []);

  useEffect(() => {
    startToyWorker();
    if (leftDuringTraining !== null) {
      const { step, status } = useTrainStore.getState();
      say(
        'info',
        `Training kept running in its own worker while you were away: step ${leftDuringTraining} → ${step}` +
          (status === 'training' ? ' (still training).' : '.'),
      );
      leftDuringTraining = null;
    }
    return () => {
      const { status, step } = useTrainStore.getState();
      leftDuringTraining = status === 'training' ? step : null;
    };
  }, []);

  return (
    <section className="train-view" aria-label="Train">
      <p className="train-intro">
        Train a small diffusion model on 2D points, here in the page: pick or draw a data set, press
        Train, then Sample to watch particles flow from noise onto it.
      </p>
      <TrainMessages />
      <div className="train-row">
        <div>
          <DataControls />
          <DataCanvas />
        </div>
        <ForwardView />
      </div>
      <ModelControls />
      <TrainButtons />
      <TrainStatus />
      <div className="train-row">
        <LossCurve />
        <BucketChart />
      </div>
      <SamplerControls />
      <SamplesView />
    </section>
  );
}
