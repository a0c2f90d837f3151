import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './components/App';
import { loadModelList, setUrlClass, startEngine } from './engineClient';
import { linkCanvasToUrl } from './state/outpaintLink';
import { useAppStore } from './store';
import { readUrlSettings, urlWithControls } from './urlSettings';
import './styles.css';

const url = readUrlSettings(window.location.search);
const store = useAppStore.getState();
url.warnings.forEach(store.addMessage);
store.setBackendChoice(url.backend);
store.setControls(url.controls);
setUrlClass(url.classId);
linkCanvasToUrl(url, store.addMessage);
startEngine(url.backend);
void loadModelList(url.model);

// The URL always describes the current settings, so a link reproduces the same images.
useAppStore.subscribe((state, previous) => {
  const modelChanged = state.model !== previous.model;
  if ((state.controls === previous.controls && !modelChanged) || state.controls.modelId === null) {
    return;
  }
  const textModel = state.model?.conditioning === 'text';
  const href = urlWithControls(window.location.href, state.controls, textModel);
  window.history.replaceState(null, '', href);
});

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
