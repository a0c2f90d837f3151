// Builds the model benchmark page (bench/index.html) into dist-bench/. The shipped models come from
// public/ (served at /models/...), the ONNX files and onnxruntime-web's .wasm are bundled as
// assets, so the page loads everything from its own origin (no CDN). Both engines' threaded
// Emscripten glue files are copied verbatim (scripts/vite-wasm-threads.ts): their threads load
// them by URL, which a bundled copy cannot serve.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import {
  CROSS_ORIGIN_ISOLATION_HEADERS,
  rawFiles,
  tfjsWasmThreads,
} from '../scripts/vite-wasm-threads';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const require = createRequire(import.meta.url);
const ortGluePath = require.resolve('onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs');
// The package's exports do not include package.json: read it next to dist/.
const ortVersion = (
  JSON.parse(readFileSync(new URL('../package.json', `file://${ortGluePath}`), 'utf8')) as {
    version: string;
  }
).version;

/** `virtual:ort-wasm-glue`: `ortGlueUrl`, onnxruntime-web's threaded (JSEP) glue, unbundled. */
const ortGlue = () =>
  rawFiles('virtual:ort-wasm-glue', `ort-${ortVersion}`, {
    ortGlueUrl: {
      name: 'ort-wasm-simd-threaded.jsep.mjs',
      source: () => readFileSync(ortGluePath),
    },
  });

export default defineConfig({
  root: here('.'),
  publicDir: here('../public'),
  base: './',
  plugins: [tfjsWasmThreads(), ortGlue()],
  worker: { format: 'es', plugins: () => [tfjsWasmThreads()] },
  build: {
    outDir: here('../dist-bench'),
    emptyOutDir: true,
    target: 'es2022',
    // The .onnx and .wasm files are large; inlining anything would only bloat the bundle.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 4096,
  },
  assetsInclude: ['**/*.wasm', '**/*.onnx'],
  // `vite --config bench/vite.config.ts` (by hand): isolated like the served page.
  server: { headers: CROSS_ORIGIN_ISOLATION_HEADERS },
});
