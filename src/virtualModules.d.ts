// Modules made by the Vite plugins in scripts/vite-wasm-threads.ts.
declare module 'virtual:tfjs-wasm-threads' {
  /** tfjs-backend-wasm's threaded SIMD Emscripten glue, served unchanged. */
  export const glueUrl: string;
  /** The script each tfjs wasm thread starts (tfjs's wasmWorkerContents, as a file). */
  export const pthreadWorkerUrl: string;
}

declare module 'virtual:ort-wasm-glue' {
  /** onnxruntime-web's threaded (JSEP) Emscripten glue, served unchanged (bench page only). */
  export const ortGlueUrl: string;
}
