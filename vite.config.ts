import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

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

export default defineConfig({
  plugins: [react(), contentSecurityPolicy()],
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true },
  // tfjs-backend-wasm ships its .wasm files next to its JS; they are imported with ?url.
  assetsInclude: ['**/*.wasm'],
  server: { host: '127.0.0.1' },
  // The built app as a host should serve it: the header covers the page and the worker.
  preview: { headers: { 'Content-Security-Policy': CONTENT_SECURITY_POLICY_HEADER } },
});
