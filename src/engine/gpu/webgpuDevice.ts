// tfjs's WebGPU backend on a device we ask for ourselves (browser only): as tfjs-backend-webgpu's
// own factory does (the adapter's buffer and workgroup limits, timestamp queries where offered),
// plus `shader-f16` where the adapter has it, so that WGSL kernels of ours may `enable f16;`. It
// also keeps what the adapter offers (features, limits), for limits.ts and precision.ts.
import * as tf from '@tensorflow/tfjs-core';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { readLimits, type GpuLimits } from './limits';

export interface GpuDeviceInfo {
  /** Features the device was created with. */
  features: string[];
  /** The device can compile WGSL with `enable f16;`. */
  shaderF16: boolean;
  /** The device's limits (as requested: the adapter's own). */
  limits: GpuLimits;
  isFallbackAdapter: boolean;
  architecture: string;
}

/** Minimal structural types of the WebGPU API (the engine has no DOM typings for it). */
interface AdapterLike {
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  isFallbackAdapter?: boolean;
  info?: { architecture?: string };
  requestDevice(descriptor: {
    requiredFeatures: string[];
    requiredLimits: Record<string, number>;
  }): Promise<{ features: Iterable<string>; limits: Record<string, number> }>;
}
interface GpuLike {
  requestAdapter(options: { powerPreference: string }): Promise<AdapterLike | null>;
}

let info: GpuDeviceInfo | null = null;

/** What the current WebGPU device offers (null before the webgpu backend started). */
export function webGpuDeviceInfo(): GpuDeviceInfo | null {
  return info;
}

/** The limits tfjs asks for: the adapter's own, so large models get large buffers. */
const LIMITS = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupSizeX',
  'maxComputeInvocationsPerWorkgroup',
];

/** Features requested where the adapter has them. */
const OPTIONAL_FEATURES = ['timestamp-query', 'bgra8unorm-storage', 'shader-f16'];

/** Replaces tfjs's factory for 'webgpu' (same priority). Where there is no WebGPU, does nothing. */
export function registerWebGpuBackend(): void {
  const gpu = (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu;
  if (!gpu) return;
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend(
    'webgpu',
    async () => {
      const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
      if (!adapter) throw new Error('no WebGPU adapter');
      const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
      const requiredLimits: Record<string, number> = {};
      for (const name of LIMITS) requiredLimits[name] = adapter.limits[name];
      const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
      const features = [...device.features];
      info = {
        features,
        shaderF16: features.includes('shader-f16'),
        limits: readLimits(device.limits),
        isFallbackAdapter: adapter.isFallbackAdapter === true,
        architecture: adapter.info?.architecture ?? '',
      };
      return new WebGPUBackend(
        device as unknown as ConstructorParameters<typeof WebGPUBackend>[0],
        adapter.info as unknown as ConstructorParameters<typeof WebGPUBackend>[1],
      );
    },
    3, // as tfjs-backend-webgpu registers itself
  );
}
