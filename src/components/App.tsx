import { BackendStatus } from './BackendStatus';
import { BatchPicker } from './batch/BatchPicker';
import { CompareTools } from './compare/CompareTools';
import { Controls } from './Controls';
import { ElboPanel } from './elbo/ElboPanel';
import { FrameViews } from './FrameViews';
import { Messages } from './Messages';
import { OutpaintPanel } from './outpaint/OutpaintPanel';
import { RunButtons } from './RunButtons';
import { RunSchedule } from './RunSchedule';
import { SourceEditor } from './source/SourceEditor';
import { StepReadout } from './StepReadout';
import { Timeline } from './Timeline';
import { TrainView } from './train/TrainView';
import { ViewTabs, useAppView } from './train/ViewTabs';
import { useRunKeys } from './useRunKeys';

export function App() {
  useRunKeys();
  const view = useAppView((s) => s.view);
  return (
    <div className="app">
      <header className="app-header">
        <h1>Diffusion Playground</h1>
        <p className="tagline">Real scheduler math from diffusers, running in your browser.</p>
        <BackendStatus />
      </header>
      <Messages />
      <ViewTabs />
      {/* Hidden, not unmounted: an image run keeps its frames while the Train view is shown. */}
      {view === 'train' && <TrainView />}
      <main hidden={view !== 'generate'}>
        <section className="playground" aria-label="Playground">
          <Controls />
          <RunButtons />
          <OutpaintPanel />
          <StepReadout />
          <FrameViews />
          <BatchPicker />
          <Timeline />
          <p className="keys-hint">
            Keys: <kbd>Space</kbd> play/pause · <kbd>→</kbd> step · <kbd>←</kbd> step back
          </p>
          <RunSchedule />
          <ElboPanel />
          <CompareTools />
        </section>
        <SourceEditor />
      </main>
    </div>
  );
}
