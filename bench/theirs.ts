// The peer: the same U-Net exported to ONNX (training/export_onnx.py) run by onnxruntime-web.
// Its .wasm is bundled by Vite as an asset of this page and ort.env.wasm.wasmPaths points at it,
// so nothing is fetched from a CDN.
import * as ort from 'onnxruntime-web';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import { ortGlueUrl } from 'virtual:ort-wasm-glue';
import type { TheirSession } from './theirEval';

export type { OrtProvider } from './theirEval';
import type { OrtProvider } from './theirEval';

export { theirEval, type TheirSession } from './theirEval';

/**
 * Must run before the first session: ORT reads these when it instantiates its wasm. `threads`
 * as ours (ORT falls back to one where the page is not cross-origin isolated). The glue is
 * loaded from its own, unbundled file: ORT's threads start as module workers of the glue's URL,
 * which for the copy inside the bundle would be this whole page.
 */
export function configureOrt(threads = 1): void {
  ort.env.wasm.wasmPaths = {
    wasm: new URL(ortWasm, location.href).href,
    mjs: new URL(ortGlueUrl, location.href).href,
  };
  ort.env.wasm.numThreads = threads;
  // On the page's thread, like our tfjs: a proxy worker would add a message hop per call.
  ort.env.wasm.proxy = false;
}

export async function createTheirSession(
  modelUrl: string,
  provider: OrtProvider,
): Promise<TheirSession> {
  const bytes = new Uint8Array(await (await fetch(modelUrl)).arrayBuffer());
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
  });
  return {
    provider,
    session,
    threads: ort.env.wasm.numThreads ?? 1,
    version: ort.env.versions.web ?? 'unknown',
  };
}

export interface ConvSession {
  channels: number;
  session: ort.InferenceSession;
}

export async function createConvSession(
  modelUrl: string,
  channels: number,
  provider: OrtProvider,
): Promise<ConvSession> {
  const bytes = new Uint8Array(await (await fetch(modelUrl)).arrayBuffer());
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    // Keep the conv's output where it was computed: the roofline times the conv, not a download.
    preferredOutputLocation: provider === 'webgpu' ? 'gpu-buffer' : 'cpu',
  });
  return { channels, session };
}

/** `calls` convs on the same input; waits for the last one to finish. */
export async function runConv(
  s: ConvSession,
  x: Float32Array,
  shape: [number, number, number, number],
  calls: number,
): Promise<void> {
  const input = new ort.Tensor('float32', x, shape);
  for (let i = 0; i < calls; i++) {
    const { y } = await s.session.run({ x: input });
    if (i === calls - 1) await y.getData();
    y.dispose();
  }
}
