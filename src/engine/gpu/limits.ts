// What a WebGPU adapter allows, what one image of a model needs, and the largest batch that fits:
// checked before a batch runs, so a batch too large for the adapter is split (batchLimit.ts)
// rather than failing with a buffer-size validation error that takes the device down.
//
// The binding that must fit is the largest tensor a kernel writes: tfjs-backend-webgpu gives every
// tensor its own buffer and binds it whole, so maxStorageBufferBindingSize (and maxBufferSize)
// bound the largest tensor of the model at the run's batch. Dispatch sizes need no check here:
// tfjs folds a dispatch wider than maxComputeWorkgroupsPerDimension into two or three dimensions.

export interface GpuLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  maxComputeWorkgroupsPerDimension: number;
}

/** The WebGPU spec's defaults: what every adapter offers at least. */
export const WEBGPU_DEFAULT_LIMITS: GpuLimits = {
  maxBufferSize: 268_435_456,
  maxStorageBufferBindingSize: 134_217_728,
  maxComputeWorkgroupsPerDimension: 65_535,
};

/** An adapter's or device's limits (GPUSupportedLimits), missing ones at the spec's defaults. */
export function readLimits(limits: Partial<Record<keyof GpuLimits, number>> | null): GpuLimits {
  const pick = (key: keyof GpuLimits) => {
    const v = limits?.[key];
    return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : WEBGPU_DEFAULT_LIMITS[key];
  };
  return {
    maxBufferSize: pick('maxBufferSize'),
    maxStorageBufferBindingSize: pick('maxStorageBufferBindingSize'),
    maxComputeWorkgroupsPerDimension: pick('maxComputeWorkgroupsPerDimension'),
  };
}

/**
 * What one image of the model needs: measured from a profiled call (footprintFromProfile) or
 * from a dispatch trace (the worker's gpuPath.ts).
 */
export interface ModelFootprint {
  /** Elements of the largest tensor any kernel wrote, per image of the batch. */
  largestTensorElementsPerSample: number;
  /** tf.profile's peakBytes per image: all tensors alive at once (reported, not limited). */
  peakBytesPerSample?: number;
}

/** The parts of tf.profile()'s result used here. */
export interface ProfileLike {
  peakBytes: number;
  kernels: { outputShapes: (number[] | null)[] }[];
}

/** Per-image needs from a profile of one model call at `batch` images. */
export function footprintFromProfile(profile: ProfileLike, batch: number): ModelFootprint {
  if (!(batch >= 1)) throw new Error(`footprintFromProfile: batch ${batch}`);
  let largest = 0;
  for (const k of profile.kernels) {
    for (const shape of k.outputShapes) {
      if (!shape) continue;
      largest = Math.max(
        largest,
        shape.reduce((a, b) => a * b, 1),
      );
    }
  }
  return {
    largestTensorElementsPerSample: Math.ceil(largest / batch),
    peakBytesPerSample: Math.ceil(profile.peakBytes / batch),
  };
}

export interface BatchLimit {
  /** The most images per model call (0: not even one image fits). */
  maxBatch: number;
  /** The bytes one tensor may take: the smaller buffer limit, less the headroom. */
  bytesPerTensor: number;
  /** The largest tensor's bytes per image, at `bytesPerElement`. */
  bytesPerSample: number;
  why: string;
}

/**
 * The largest batch whose largest tensor fits the adapter's buffer limits with `headroom` to
 * spare (tfjs pads some buffers, e.g. to 4-element vectors), at `bytesPerElement` (4: float32,
 * 2: float16).
 */
export function maxBatchForLimits(
  footprint: ModelFootprint,
  limits: GpuLimits,
  bytesPerElement = 4,
  headroom = 0.9,
): BatchLimit {
  const cap = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const bytesPerTensor = Math.floor(cap * headroom);
  const bytesPerSample = footprint.largestTensorElementsPerSample * bytesPerElement;
  if (bytesPerSample <= 0) {
    return { maxBatch: Number.MAX_SAFE_INTEGER, bytesPerTensor, bytesPerSample, why: 'no tensors' };
  }
  const maxBatch = Math.floor(bytesPerTensor / bytesPerSample);
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const why =
    maxBatch >= 1
      ? `the largest tensor takes ${mib(bytesPerSample)} per image; the adapter binds at most ` +
        `${mib(cap)} (${Math.round(headroom * 100)}% used): ${maxBatch} images per call`
      : `one image's largest tensor (${mib(bytesPerSample)}) is more than the adapter can bind ` +
        `(${mib(cap)})`;
  return { maxBatch, bytesPerTensor, bytesPerSample, why };
}

/**
 * Sizes of the model calls for `batch` images at most `maxBatch` per call: as few calls as
 * possible, sizes as equal as possible (at most two distinct sizes, so at most two shader sets).
 */
export function planBatches(batch: number, maxBatch: number): number[] {
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`planBatches: batch ${batch}`);
  if (!(maxBatch >= 1)) throw new Error(`planBatches: not even one image fits (max ${maxBatch})`);
  const calls = Math.ceil(batch / Math.floor(maxBatch));
  const base = Math.floor(batch / calls);
  return Array.from({ length: calls }, (_, i) => base + (i < batch % calls ? 1 : 0));
}
