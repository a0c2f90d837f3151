// Vite plugins for multi-threaded WebAssembly: the cross-origin isolation headers, and files that
// must reach the browser byte for byte, outside the bundle.
//
// Why outside: a threaded Emscripten module starts its threads as classic Web Workers that load
// the module's JavaScript glue again (importScripts). tfjs-backend-wasm hands them the glue as
// the *source text of the bundled factory function* (Function.prototype.toString() in a Blob);
// after Vite/Rolldown has renamed and minified that function, the text refers to names of the
// bundle that do not exist in the worker (`ReferenceError: e is not defined`, docs/PERFORMANCE.md).
// onnxruntime-web's threads load the glue by its own module URL, which in a bundle is the page's
// bundle. Serving the published glue files unchanged, at URLs of our own origin, fixes both
// without `blob:` workers (the app's CSP keeps `worker-src 'self'`).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Plugin, PluginOption } from 'vite';

/**
 * COOP + COEP make a page cross-origin isolated (self.crossOriginIsolated), which is what lets it
 * use SharedArrayBuffer and so WebAssembly threads. `require-corp`: every subresource must be
 * same-origin or opt in with CORP/CORS; the app loads only its own files. (`credentialless` would
 * also do, but Safari implements only `require-corp`.) CORP on our own responses lets another
 * isolated page of the same origin embed them, and costs nothing.
 */
export const CROSS_ORIGIN_ISOLATION_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** One file served verbatim: `source` is read when the file is first needed. */
export interface RawFile {
  /** File name under the plugin's folder, e.g. `tfjs-backend-wasm-threaded-simd.js`. */
  name: string;
  source: () => string | Uint8Array;
}

const TYPES: Record<string, string> = {
  js: 'text/javascript',
  mjs: 'text/javascript',
  wasm: 'application/wasm',
};

/**
 * A virtual module `moduleId` whose named exports are the URLs of `files`, served unchanged from
 * `<base><folder>/<name>`: by a dev-server middleware under `vite`, emitted as assets under
 * `vite build` (from the page's bundle and from worker bundles alike). Add it to `plugins` and
 * to `worker.plugins`.
 */
export function rawFiles(moduleId: string, folder: string, files: Record<string, RawFile>): Plugin {
  const resolved = `\0${moduleId}`;
  let base = '/';
  let serve = false;
  const cache = new Map<string, string | Uint8Array>();
  const content = (key: string) => {
    if (!cache.has(key)) cache.set(key, files[key].source());
    return cache.get(key)!;
  };
  return {
    name: `raw-files:${moduleId}`,
    configResolved(config) {
      base = config.base;
      serve = config.command === 'serve';
    },
    resolveId(id) {
      return id === moduleId ? resolved : undefined;
    },
    load(id) {
      if (id !== resolved) return undefined;
      const lines = Object.keys(files).map((key) => {
        const fileName = `${folder}/${files[key].name}`;
        if (serve) return `export const ${key} = ${JSON.stringify(base + fileName)};`;
        const ref = this.emitFile({ type: 'asset', fileName, source: content(key) });
        return `export const ${key} = import.meta.ROLLUP_FILE_URL_${ref};`;
      });
      return lines.join('\n');
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '').split('?')[0];
        const key = Object.keys(files).find((k) => path === `${base}${folder}/${files[k].name}`);
        if (!key) return next();
        const ext = files[key].name.split('.').pop() ?? '';
        res.setHeader('Content-Type', TYPES[ext] ?? 'application/octet-stream');
        for (const [name, value] of Object.entries(CROSS_ORIGIN_ISOLATION_HEADERS)) {
          res.setHeader(name, value);
        }
        res.setHeader('Cache-Control', 'no-cache');
        res.end(content(key));
      });
    },
  };
}

const require = createRequire(import.meta.url);
const TFJS_WASM_OUT = '@tensorflow/tfjs-backend-wasm/wasm-out';
const tfjsWasmVersion = (): string =>
  (require('@tensorflow/tfjs-backend-wasm/package.json') as { version: string }).version;

const SHIM = fileURLToPath(new URL('../src/worker/tfjsBackendWasm.ts', import.meta.url));

/**
 * Points browser code's `import ... from '@tensorflow/tfjs-backend-wasm'` at
 * src/worker/tfjsBackendWasm.ts, whose `setWasmPaths` installs our loader for the wasm backend
 * (src/engine/wasmBackend.ts): on an isolated page tfjs's own loader starts threads that cannot
 * start from a bundle. The shim itself, and everything that names a file inside the package,
 * get the package.
 */
function redirectTfjsWasm(): Plugin {
  return {
    name: 'tfjs-backend-wasm-loader',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source !== '@tensorflow/tfjs-backend-wasm' || !importer) return undefined;
      if (importer.split('?')[0] === SHIM) return undefined;
      return SHIM;
    },
  };
}

/** The threaded build's glue starts 8 thread workers, whatever the threads asked for. */
const POOL_SIZE_SOURCE = 'var pthreadPoolSize=8;';
const THREADED_GLUE = /tfjs-backend-wasm\/wasm-out\/tfjs-backend-wasm-threaded-simd\.js$/;

/**
 * Lets the threaded build's factory take the size of Emscripten's pre-started pool of thread
 * workers from its config (`pthreadPoolSize`, set by src/engine/wasmBackend.ts to the threads
 * XNNPACK will use): the published glue always starts 8, and the backend waits for all of them to
 * load before it runs, which on a 2-core machine delayed the engine's start by ~150-250 ms
 * (bench/app.mjs, isolated against not). Applies to the bundled factory (`vite build`; the dev
 * server's pre-bundled copy keeps 8). Fails the build if tfjs changes the line.
 */
function threadPoolSize(): Plugin {
  return {
    name: 'tfjs-backend-wasm-pool-size',
    transform(code, id) {
      if (!THREADED_GLUE.test(id.split('?')[0])) return undefined;
      if (!code.includes(POOL_SIZE_SOURCE)) {
        throw new Error(`${id}: '${POOL_SIZE_SOURCE}' not found (tfjs-backend-wasm changed?)`);
      }
      return {
        code: code.replace(
          POOL_SIZE_SOURCE,
          'var pthreadPoolSize=Module["pthreadPoolSize"]>0?Module["pthreadPoolSize"]:8;',
        ),
        map: null,
      };
    },
  };
}

/**
 * Multi-threaded tfjs wasm for the app and the bench page (add to `plugins` and to
 * `worker.plugins`): the redirect above, and `virtual:tfjs-wasm-threads` with `glueUrl`
 * (tfjs-backend-wasm's threaded SIMD Emscripten glue, as published) and `pthreadWorkerUrl` (the
 * script each of its threads starts with: tfjs ships it as a string, `wasmWorkerContents`, and
 * makes a `blob:` URL of it; here it is a file of our origin).
 */
export function tfjsWasmThreads(): PluginOption {
  const files = rawFiles('virtual:tfjs-wasm-threads', `tfjs-wasm-${tfjsWasmVersion()}`, {
    glueUrl: {
      name: 'tfjs-backend-wasm-threaded-simd.js',
      source: () =>
        readFileSync(require.resolve(`${TFJS_WASM_OUT}/tfjs-backend-wasm-threaded-simd.js`)),
    },
    pthreadWorkerUrl: {
      name: 'tfjs-backend-wasm-threaded-simd.worker.js',
      source: () => {
        const contents = (
          require(`${TFJS_WASM_OUT}/tfjs-backend-wasm-threaded-simd.worker.js`) as {
            wasmWorkerContents: string;
          }
        ).wasmWorkerContents;
        // As tfjs does before making its Blob: the string's "\n" escapes became real newlines
        // inside the script's own string literals; put the escapes back.
        return contents.replace(/\n/g, '\\n');
      },
    },
  });
  return [redirectTfjsWasm(), threadPoolSize(), files];
}
