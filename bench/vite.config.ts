// Builds the model benchmark page (bench/index.html) into dist-bench/. The shipped models come from
// public/ (served at /models/...), the ONNX files and onnxruntime-web's .wasm are bundled as
// assets, so the page loads everything from its own origin (no CDN).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  publicDir: here('../public'),
  base: './',
  worker: { format: 'es' },
  build: {
    outDir: here('../dist-bench'),
    emptyOutDir: true,
    target: 'es2022',
    // The .onnx and .wasm files are large; inlining anything would only bloat the bundle.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 4096,
  },
  assetsInclude: ['**/*.wasm', '**/*.onnx'],
});
