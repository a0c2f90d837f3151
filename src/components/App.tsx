import { BackendStatus } from './BackendStatus';
import { BatchPicker } from './batch/BatchPicker';
import { CompareTools } from './compare/CompareTools';
import { Controls } from './Controls';
import { ElboPanel } from './elbo/ElboPanel';
import { FrameViews } from './FrameViews';
import { MainView } from './layout/MainView';
import { Panel } from './layout/Panel';
import { useMaskKeys } from './layout/useMaskKeys';
import { Messages } from './Messages';
import { OutpaintPanel } from './outpaint/OutpaintPanel';
import { UpscalePanel } from './upscale/UpscalePanel';
import { RunButtons } from './RunButtons';
import { RunSchedule } from './RunSchedule';
import { MaskTools, ViewChoice } from './source/MaskTools';
import { ModelForwardProcess, SourceEditor } from './source/SourceEditor';
import { StepReadout } from './StepReadout';
import { TheoryControls } from './TheoryControls';
import { Timeline } from './Timeline';
import { TrainView } from './train/TrainView';
import { ViewTabs, useAppView } from './train/ViewTabs';
import { useRunKeys } from './useRunKeys';

/**
 * The workspace, in the shape image tools have: the run's settings on the left, the image in the
 * middle with the run buttons, mask tools and timeline around it, secondary panels on the right.
 * On a phone the three stack, the image first (styles.css).
 */
export function App() {
  useRunKeys();
  useMaskKeys();
  const view = useAppView((s) => s.view);
  return (
    <div className="app">
      <header className="app-header">
        <h1>Diffusion Playground</h1>
        <p className="tagline">Real scheduler math from diffusers, running in your browser.</p>
        <ViewTabs />
        <BackendStatus />
      </header>
      <Messages />
      {/* Hidden, not unmounted: an image run keeps its frames while the Train view is shown. */}
      {view === 'train' && (
        <div className="train-area">
          <TrainView />
        </div>
      )}
      <main className="workspace" hidden={view !== 'generate'}>
        <aside className="workspace-settings" aria-label="Settings">
          <Controls />
          <Panel title="Classifier guidance and Langevin" className="theory-panel" startsOpen>
            <div className="controls">
              <TheoryControls />
            </div>
          </Panel>
        </aside>
        <section className="workspace-centre playground" aria-label="Playground">
          <RunButtons />
          <MaskTools />
          <MainView />
          <div className="view-bar">
            <StepReadout />
            <ViewChoice />
          </div>
          <Timeline />
          <p className="keys-hint">
            Keys: <kbd>Space</kbd> play/pause · <kbd>→</kbd> step · <kbd>←</kbd> step back ·{' '}
            <kbd>[</kbd> <kbd>]</kbd> brush size · <kbd>Ctrl</kbd>+<kbd>Z</kbd> undo
          </p>
        </section>
        <aside className="workspace-panels" aria-label="Panels">
          <Panel title="Source image" startsOpen openOnPhone>
            <SourceEditor />
          </Panel>
          <BatchPicker />
          <Panel title="Predicted x₀, noise and score" startsOpen>
            <FrameViews />
          </Panel>
          <Panel title="Schedule" startsOpen>
            <RunSchedule />
          </Panel>
          <Panel title="Forward process" startsOpen>
            <ModelForwardProcess />
          </Panel>
          <UpscalePanel />
          <OutpaintPanel />
          <ElboPanel />
          <CompareTools />
        </aside>
      </main>
    </div>
  );
}
