import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { CROSS_ORIGIN_ISOLATION_HEADERS, tfjsWasmThreads } from './scripts/vite-wasm-threads';

/**
 * The production Content-Security-Policy; docs/SECURITY.md says why each directive is there.
 * No 'unsafe-eval' and no 'unsafe-inline': the only code the app runs is its own bundled files,
 * plus WebAssembly compiled from its own .wasm files ('wasm-unsafe-eval' allows compiling wasm,
 * nothing else). Everything, the worker's fetches included, goes to the app's own origin.
 */
const CSP_DIRECTIVES: Record<string, string> = {
  'default-src': "'self'",
  'script-src': "'self' 'wasm-unsafe-eval'",
  'worker-src': "'self'",
  'connect-src': "'self'",
  'img-src': "'self'",
  'style-src': "'self'",
  'font-src': "'self'",
  'object-src': "'none'",
  'base-uri': "'none'",
  'form-action': "'none'",
  'frame-src': "'none'",
};

/** Directives a <meta> policy may not carry (browsers ignore them there and log an error). */
const HEADER_ONLY_DIRECTIVES: Record<string, string> = {
  'frame-ancestors': "'none'",
};

const policy = (directives: Record<string, string>) =>
  Object.entries(directives)
    .map(([name, value]) => `${name} ${value}`)
    .join('; ');

const CONTENT_SECURITY_POLICY = policy(CSP_DIRECTIVES);
const CONTENT_SECURITY_POLICY_HEADER = policy({
  ...CSP_DIRECTIVES,
  ...HEADER_ONLY_DIRECTIVES,
});

/**
 * Puts the policy into the built index.html as a <meta>, so any static host enforces it on the
 * page. Build only: the dev server's HMR client runs inline scripts and evaluates modules.
 * A <meta> policy does not reach the worker (a worker takes its policy from its own response's
 * headers), so hosts should also send the header, as `vite preview` does below.
 */
function contentSecurityPolicy(): Plugin {
  const meta = `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}" />`;
  return {
    name: 'content-security-policy',
    apply: 'build',
    transformIndexHtml(html) {
      // Right after the charset, before any script or stylesheet the policy must cover.
      const charset = /<meta charset=[^>]*>/i;
      if (!charset.test(html)) throw new Error('index.html needs a <meta charset> in its <head>');
      return html.replace(charset, (tag) => `${tag}\n    ${meta}`);
    },
  };
}

/**
 * PLAYGROUND_ISOLATION=off serves the app without COOP/COEP, as a host that sends no headers
 * would (the engine then runs one wasm thread, unless public/coi-serviceworker.js isolates the
 * page after a reload): bench/app.mjs measures that case against the isolated one.
 */
const ISOLATION = process.env.PLAYGROUND_ISOLATION === 'off' ? {} : CROSS_ORIGIN_ISOLATION_HEADERS;

export default defineConfig({
  // tfjsWasmThreads: tfjs's threaded wasm from a bundle (scripts/vite-wasm-threads.ts), in the
  // page and in every worker.
  plugins: [react(), contentSecurityPolicy(), tfjsWasmThreads()],
  worker: { format: 'es', plugins: () => [tfjsWasmThreads()] },
  build: { target: 'es2022', sourcemap: true },
  // tfjs-backend-wasm ships its .wasm files next to its JS; they are imported with ?url.
  assetsInclude: ['**/*.wasm'],
  // Imported only from workers (which the dev server's dependency scan does not follow): named
  // here so that the first `npm start` does not discover them late and reload the page.
  optimizeDeps: {
    include: [
      '@tensorflow/tfjs-backend-wasm/dist/index.js',
      '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm.js',
      '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js',
    ],
  },
  // Cross-origin isolated (COOP + COEP), so the engine may run WebAssembly threads: in
  // `npm start`, in `vite preview`, and wherever the build is hosted with the same headers
  // (README, "Threads and cross-origin isolation"; public/_headers for Netlify / Cloudflare
  // Pages; public/coi-serviceworker.js adds them where no header can be set).
  server: { host: '127.0.0.1', headers: ISOLATION },
  // The built app as a host should serve it: the headers cover the page and the worker.
  preview: {
    headers: {
      'Content-Security-Policy': CONTENT_SECURITY_POLICY_HEADER,
      ...ISOLATION,
    },
  },
});
