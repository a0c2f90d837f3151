import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './components/App';
import { startEngine } from './engineClient';
import { useAppStore } from './store';
import { readUrlSettings } from './urlSettings';
import './styles.css';

const url = readUrlSettings(window.location.search);
const store = useAppStore.getState();
url.warnings.forEach(store.addMessage);
store.setBackendChoice(url.backend);
startEngine(url.backend);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
