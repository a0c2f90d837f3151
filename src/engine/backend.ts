// Which tfjs backend to run, and why. A WebGPU adapter alone is not enough: on machines without a
// GPU, Chromium offers a software adapter (SwiftShader) that is 50-80x slower than WASM (see
// docs in README), so a fallback adapter counts as "no GPU".
import * as tf from '@tensorflow/tfjs-core';

import type { BackendName } from './backendNames';
import { prepareWasmKernels, wasmKernelsProblem } from './kernels';

export { BACKENDS, isBackendName, type BackendName } from './backendNames';

/** What we learned from navigator.gpu.requestAdapter(). */
export interface AdapterReport {
  available: boolean;
  isFallback: boolean;
  vendor: string;
  architecture: string;
  description: string;
  /** Why there is no adapter, when there is none. */
  problem: string | null;
}

export interface BackendPlan {
  /** Backends to try, best first; the first that initialises wins. */
  order: BackendName[];
  reason: string;
}

/** Minimal structural types of the WebGPU API, so the engine needs no DOM typings. */
interface GpuAdapterLike {
  readonly info?: { vendor?: string; architecture?: string; description?: string };
  readonly isFallbackAdapter?: boolean;
}
export interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

export async function probeWebGpu(gpu: GpuLike | undefined): Promise<AdapterReport> {
  const none = (problem: string): AdapterReport => ({
    available: false,
    isFallback: false,
    vendor: '',
    architecture: '',
    description: '',
    problem,
  });
  if (!gpu) return none('this browser has no WebGPU (navigator.gpu is missing)');
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return none('WebGPU is present but no adapter was offered');
    const info = adapter.info ?? {};
    const architecture = info.architecture ?? '';
    return {
      available: true,
      // Older Chromium only exposes the SwiftShader architecture string, not the flag.
      isFallback: adapter.isFallbackAdapter === true || architecture === 'swiftshader',
      vendor: info.vendor ?? '',
      architecture,
      description: info.description ?? '',
      problem: null,
    };
  } catch (err) {
    return none(`requestAdapter failed: ${(err as Error).message}`);
  }
}

export function planBackends(adapter: AdapterReport, override: BackendName | null): BackendPlan {
  const rest = (first: BackendName) => [
    first,
    ...(['wasm', 'webgl', 'cpu'] as BackendName[]).filter((b) => b !== first),
  ];
  if (override) {
    return { order: rest(override), reason: `chosen by you (backend=${override})` };
  }
  if (adapter.available && !adapter.isFallback) {
    const name = [adapter.vendor, adapter.architecture].filter(Boolean).join(' ') || 'a GPU';
    return { order: ['webgpu', 'wasm', 'webgl', 'cpu'], reason: `WebGPU on ${name}` };
  }
  if (adapter.available) {
    return {
      order: rest('wasm'),
      reason:
        `the only WebGPU adapter is a software fallback (${adapter.architecture || 'no GPU'}), ` +
        'which is far slower than WASM on the CPU',
    };
  }
  return { order: rest('wasm'), reason: `no GPU: ${adapter.problem ?? 'WebGPU unavailable'}` };
}

export interface ActiveBackend {
  name: BackendName;
  reason: string;
  /** Backends that were tried first and failed, with their errors. */
  failures: string[];
}

/** Tries the plan in order; says which backend runs and what failed before it. */
export async function initBackend(plan: BackendPlan): Promise<ActiveBackend> {
  const failures: string[] = [];
  for (const name of plan.order) {
    try {
      const ok = await tf.setBackend(name);
      if (!ok) throw new Error('initialisation returned false');
      await tf.ready();
      // The wasm backend's fused kernels; without them the model uses plain tfjs ops (slower).
      const kernelsOff = name === 'wasm' && !(await prepareWasmKernels());
      let reason = failures.length === 0 ? plan.reason : `${plan.reason}; fell back to ${name}`;
      if (kernelsOff) reason += `; without the fused wasm kernels (${wasmKernelsProblem()})`;
      return { name, reason, failures };
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message ?? String(err)}`);
    }
  }
  throw new Error(`no tfjs backend could start (${failures.join('; ')})`);
}

/** The priorities the tfjs backend packages register with (only our plan's order matters). */
const REGISTERED_PRIORITY: Record<BackendName, number> = { webgpu: 3, webgl: 2, wasm: 2, cpu: 1 };

/**
 * Drops a backend's instance (and with it every tensor it held) so that the next setBackend
 * builds a fresh one: after a WebGPU device is lost, the old backend keeps using the dead device.
 * tfjs's removeBackend also forgets the backend's factory, so it is registered again here.
 */
export function resetBackend(name: BackendName): void {
  const factory = tf.findBackendFactory(name);
  if (!factory) return;
  tf.removeBackend(name);
  tf.registerBackend(name, factory, REGISTERED_PRIORITY[name]);
}
