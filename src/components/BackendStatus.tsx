import { useId } from 'react';
import type { AdapterReport } from '../engine/backend';
import { BACKENDS, isBackendName } from '../engine/backendNames';
import { startEngine } from '../engineClient';
import { useAppStore } from '../store';

/** The WebGPU adapter the worker found, in one line (for the bench and for bug reports). */
function adapterSummary(adapter: AdapterReport | null): string {
  if (!adapter) return '';
  if (!adapter.available) return `none: ${adapter.problem ?? 'unknown'}`;
  const name = [adapter.vendor, adapter.architecture, adapter.description].filter(Boolean);
  return `${name.join(' ') || 'unnamed adapter'}${adapter.isFallback ? ' (fallback)' : ''}`;
}

/** Which tfjs backend runs and why, with a menu to override the automatic choice. */
export function BackendStatus() {
  const engine = useAppStore((s) => s.engine);
  const choice = useAppStore((s) => s.backendChoice);
  const setChoice = useAppStore((s) => s.setBackendChoice);
  const id = useId();

  const onChange = (value: string) => {
    const next = isBackendName(value) ? value : null;
    setChoice(next);
    const url = new URL(window.location.href);
    if (next) url.searchParams.set('backend', next);
    else url.searchParams.delete('backend');
    window.history.replaceState(null, '', url);
    startEngine(next);
  };

  return (
    <section className="backend-status" aria-label="Engine status">
      <label htmlFor={id}>Backend</label>
      <select id={id} value={choice ?? 'auto'} onChange={(e) => onChange(e.target.value)}>
        <option value="auto">Automatic</option>
        {BACKENDS.map((b) => (
          <option key={b} value={b}>
            {b}
          </option>
        ))}
      </select>
      <output
        data-testid="backend-name"
        data-state={engine.state}
        data-backend={engine.backend ?? ''}
        data-adapter={adapterSummary(engine.adapter)}
        data-isolated={engine.runs ? String(engine.runs.crossOriginIsolated) : ''}
        data-threads={engine.runs?.wasmThreads ?? ''}
        title={engine.runs?.detail ?? undefined}
      >
        {engine.state === 'starting' && 'Starting the engine…'}
        {engine.state === 'failed' && 'The engine could not start'}
        {engine.state === 'ready' && (
          <>
            Running on <strong>{engine.runs?.summary ?? engine.backend}</strong> because{' '}
            {engine.reason}
            {engine.selfCheckOk ? '' : ' (self-check failed!)'}
          </>
        )}
      </output>
      {engine.failures.length > 0 && (
        <details>
          <summary>Backends that failed first</summary>
          <ul>
            {engine.failures.map((f) => (
              <li key={f}>{f}</li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
