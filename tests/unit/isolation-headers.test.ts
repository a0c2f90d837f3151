// Cross-origin isolation wherever the app is served: the headers of `npm start` and
// `vite preview` (vite.config.ts), public/_headers for hosts that read it, and the fallback
// service worker (public/coi-serviceworker.js) that adds them where no header can be set.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import config from '../../vite.config';
import { CROSS_ORIGIN_ISOLATION_HEADERS } from '../../scripts/vite-wasm-threads';

const ROOT = join(__dirname, '..', '..');
const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** public/_headers: the `/*` block's headers. */
function staticHostHeaders(): Record<string, string> {
  const text = readFileSync(join(ROOT, 'public/_headers'), 'utf8');
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s+([A-Za-z-]+):\s*(.+)$/.exec(line);
    if (m) out[m[1]] = m[2].trim();
  }
  return out;
}

describe('isolation headers', () => {
  it('the dev server and vite preview send COOP same-origin and COEP require-corp', () => {
    expect(CROSS_ORIGIN_ISOLATION_HEADERS).toEqual(ISOLATION);
    const c = config as { server?: { headers?: object }; preview?: { headers?: object } };
    expect(c.server?.headers).toMatchObject(ISOLATION);
    expect(c.preview?.headers).toMatchObject(ISOLATION);
  });

  it('public/_headers sends the same isolation headers and the same CSP as vite preview', () => {
    const headers = staticHostHeaders();
    expect(headers).toMatchObject(ISOLATION);
    const preview = (config as { preview: { headers: Record<string, string> } }).preview.headers;
    expect(headers['Content-Security-Policy']).toBe(preview['Content-Security-Policy']);
  });

  it('index.html loads the fallback service worker script before the app', () => {
    const html = readFileSync(join(ROOT, 'index.html'), 'utf8');
    const sw = html.indexOf('<script src="/coi-serviceworker.js" async></script>');
    expect(sw).toBeGreaterThan(0);
    expect(sw).toBeLessThan(html.indexOf('type="module"'));
  });
});

type FetchHandler = (event: { request: Request; respondWith(r: Promise<Response>): void }) => void;

/** Runs public/coi-serviceworker.js as a service worker would, with `fetch` answered by `network`. */
function loadServiceWorker(network: (r: Request) => Promise<Response>) {
  const handlers: Record<string, FetchHandler> = {};
  const self = {
    location: new URL('https://app.example/coi-serviceworker.js'),
    addEventListener: (type: string, fn: FetchHandler) => (handlers[type] = fn),
    skipWaiting: () => undefined,
    clients: { claim: () => Promise.resolve() },
  };
  const source = readFileSync(join(ROOT, 'public/coi-serviceworker.js'), 'utf8');
  runInNewContext(source, { self, fetch: network, Headers, Response, URL, console });
  return async (url: string): Promise<Response | 'passed through'> => {
    let answer: Promise<Response> | null = null;
    handlers.fetch({ request: new Request(url), respondWith: (r) => (answer = r) });
    return answer ?? 'passed through';
  };
}

describe('the fallback service worker', () => {
  it('adds COOP, COEP and CORP to same-origin responses and keeps the rest', async () => {
    const fetchThrough = loadServiceWorker(
      async () =>
        new Response('<!doctype html>', {
          status: 200,
          headers: { 'Content-Type': 'text/html', 'X-Kept': 'yes' },
        }),
    );
    const response = await fetchThrough('https://app.example/index.html');
    if (response === 'passed through') throw new Error('not answered');
    for (const [name, value] of Object.entries(ISOLATION)) {
      expect(response.headers.get(name)).toBe(value);
    }
    expect(response.headers.get('Content-Type')).toBe('text/html');
    expect(response.headers.get('X-Kept')).toBe('yes');
    expect(await response.text()).toBe('<!doctype html>');
  });

  it('leaves other origins alone', async () => {
    const fetchThrough = loadServiceWorker(async () => new Response(''));
    expect(await fetchThrough('https://elsewhere.example/x.js')).toBe('passed through');
  });
});
