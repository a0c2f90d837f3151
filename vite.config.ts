import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true },
  // tfjs-backend-wasm ships its .wasm files next to its JS; they are imported with ?url.
  assetsInclude: ['**/*.wasm'],
  server: { host: '127.0.0.1' },
});
