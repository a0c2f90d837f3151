// Settings read from the page URL. Anything odd is ignored with a message, never a crash.
import { isBackendName, type BackendName } from './engine/backendNames';

export interface UrlSettings {
  backend: BackendName | null;
  warnings: string[];
}

export function readUrlSettings(search: string): UrlSettings {
  const params = new URLSearchParams(search);
  const warnings: string[] = [];
  let backend: BackendName | null = null;
  const raw = params.get('backend');
  if (raw !== null) {
    const value = raw.trim().toLowerCase();
    if (isBackendName(value)) backend = value;
    else {
      const shown = raw.length > 40 ? `${raw.slice(0, 40)}…` : raw;
      warnings.push(
        `Ignored backend="${shown}" in the URL: use webgpu, webgl, wasm or cpu. Choosing automatically.`,
      );
    }
  }
  return { backend, warnings };
}
