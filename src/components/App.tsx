import { BackendStatus } from './BackendStatus';
import { Messages } from './Messages';
import { ScheduleExplorer } from './ScheduleExplorer';

export function App() {
  return (
    <div className="app">
      <header className="app-header">
        <h1>Diffusion Playground</h1>
        <p className="tagline">Real scheduler math from diffusers, running in your browser.</p>
        <BackendStatus />
      </header>
      <Messages />
      <main>
        <ScheduleExplorer />
      </main>
    </div>
  );
}
