#!/usr/bin/env node
// Runs a TypeScript command-line tool of this repository in Node: `node scripts/run.mjs <file.ts> [args]`.
// The tool is bundled with esbuild first, because tfjs-core's ES module build uses directory
// imports that Node's own ESM loader refuses; a bundle resolves them the way Vite does.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run.mjs <file.ts> [args...]');
  process.exit(2);
}
const outDir = resolve('node_modules/.cache/run-ts');
mkdirSync(outDir, { recursive: true });
const outfile = resolve(outDir, `${basename(entry, '.ts')}.mjs`);
await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'inline',
  logLevel: 'warning',
  // Node built-ins and CommonJS-only packages resolve at run time through this shim.
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  mainFields: ['module', 'main'],
});
process.argv = [process.argv[0], entry, ...args];
await import(pathToFileURL(outfile).href);
