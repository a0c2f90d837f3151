// A WebGPU device can be lost at any moment (a driver reset, the GPU process restarting, or
// device.destroy()). tfjs does not notice: its backend keeps the dead device, and every tensor on
// it is gone. This watches the active backend's device and reports a loss once.
import * as tf from '@tensorflow/tfjs-core';

export interface DeviceLostInfo {
  /** GPUDeviceLostInfo.reason: "destroyed" or "unknown". */
  reason: string;
  message: string;
}

/** The parts of GPUDevice used here (structural, so no WebGPU typings are needed). */
interface GpuDeviceLike {
  readonly lost: Promise<{ reason?: string; message?: string }>;
  destroy(): void;
}

let watched: GpuDeviceLike | null = null;
let lost = false;

/** The GPUDevice under tfjs's WebGPU backend, or null when another backend runs. */
function activeDevice(): GpuDeviceLike | null {
  if (tf.getBackend() !== 'webgpu') return null;
  return (tf.backend() as unknown as { device?: GpuDeviceLike }).device ?? null;
}

/** Watches the active backend's device (if WebGPU); `onLost` runs once, when it is lost. */
export function watchDevice(onLost: (info: DeviceLostInfo) => void): void {
  const device = activeDevice();
  watched = device;
  lost = false;
  if (!device) return;
  void device.lost.then((info) => {
    if (watched !== device) return; // a device already replaced
    lost = true;
    onLost({ reason: info.reason || 'unknown', message: info.message ?? '' });
  });
}

/** Stops watching: the backend is about to be replaced on purpose. */
export function unwatchDevice(): void {
  watched = null;
}

/**
 * Whether a failed tfjs call failed because the device was lost. The read-back's rejection can
 * arrive before the device's `lost` promise settles, so this waits for it a moment.
 */
export async function failedFromDeviceLoss(err: unknown, waitMs = 500): Promise<boolean> {
  if (lost) return true;
  const message = err instanceof Error ? err.message : String(err);
  if (/device (is |was |has been )?lost|destroyed device/i.test(message)) return true;
  const device = watched;
  if (!device) return false;
  const timer = new Promise<false>((resolve) => setTimeout(() => resolve(false), waitMs));
  return Promise.race([device.lost.then(() => true), timer]);
}

/** Destroys the active WebGPU device (the debug=1 hook): what a driver reset does, on purpose. */
export function destroyDevice(): void {
  const device = activeDevice();
  if (!device) {
    throw new Error(`there is no WebGPU device to lose: the engine runs on ${tf.getBackend()}`);
  }
  device.destroy();
}
