// Cross-origin isolation where the host cannot send headers (GitHub Pages and other plain static
// hosts). One file, two roles:
//
// - As a classic <script> in index.html: when the page is not cross-origin isolated, registers
//   this same file as a service worker and reloads the page once it controls it. Does nothing
//   when the server already sent the headers (vite, vite preview, a configured host), where the
//   browser has no service worker, or outside a secure context (http:// other than localhost).
// - As the service worker: answers every same-origin request by fetching it and adding COOP,
//   COEP and CORP to the response, which is what makes the reloaded page isolated.
//
// Isolation gives the page SharedArrayBuffer, and so WebAssembly threads (README, "Threads and
// cross-origin isolation"). Written for this app, after the pattern of coi-serviceworker (MIT,
// gzuidhof/coi-serviceworker); it shares no code with it.
/* eslint-disable */
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

if (typeof window === 'undefined') {
  // ---- The service worker ----
  self.addEventListener('install', () => self.skipWaiting());
  self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

  self.addEventListener('fetch', (event) => {
    const request = event.request;
    // A request the browser forbids a service worker to replay.
    if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
    // The app only loads from its own origin (its CSP says so); leave anything else alone.
    if (new URL(request.url).origin !== self.location.origin) return;
    event.respondWith(
      fetch(request).then((response) => {
        // Opaque and error responses cannot be rewritten; pass them on.
        if (response.status === 0 || response.type === 'opaqueredirect') return response;
        const headers = new Headers(response.headers);
        for (const [name, value] of Object.entries(ISOLATION_HEADERS)) headers.set(name, value);
        return new Response(response.body, {
          status: response.status,
          statusText: response.statusText,
          headers,
        });
      }),
    );
  });
} else {
  // ---- The page ----
  (() => {
    const RELOADED = 'coi-serviceworker-reloaded';
    if (window.crossOriginIsolated) {
      // Isolated, by the server's headers or by this worker: nothing to do.
      sessionStorage.removeItem(RELOADED);
      return;
    }
    if (!window.isSecureContext || !('serviceWorker' in navigator)) return;
    // One reload per tab session: if the browser still does not isolate the page after it (a
    // browser without COEP support, or the worker disabled), run without threads, not in a loop.
    if (sessionStorage.getItem(RELOADED)) {
      console.warn(
        'coi-serviceworker: the page is still not cross-origin isolated after a reload; ' +
          'the engine runs one wasm thread',
      );
      return;
    }
    const script = document.currentScript && document.currentScript.src;
    if (!script) return;
    const reload = () => {
      sessionStorage.setItem(RELOADED, '1');
      window.location.reload();
    };
    navigator.serviceWorker.register(script).then(
      (registration) => {
        // No registration (service workers blocked by the browser or a policy): stay as we are.
        if (!registration) return;
        // Controlled already (the worker was installed by an earlier visit, but this response
        // came from the network or HTTP cache without the headers): reload through it.
        if (navigator.serviceWorker.controller) {
          reload();
          return;
        }
        navigator.serviceWorker.addEventListener('controllerchange', reload, { once: true });
        // Installed and active before the listener was added.
        if (registration.active && navigator.serviceWorker.controller) reload();
      },
      (err) => console.warn('coi-serviceworker: registration failed:', err),
    );
  })();
}
