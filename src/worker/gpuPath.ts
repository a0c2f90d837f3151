// The engine worker's GPU path (WebGPU): the device with shader-f16 where offered
// (engine/gpu/webgpuDevice.ts), the model's largest batch per call from the adapter's limits,
// checked before each call (a larger batch is split, engine/gpu/batchLimit.ts), the precision
// plan (engine/gpu/precision.ts), and a trace of the dispatches of every model call
// (engine/gpu/dispatchTrace.ts). On other backends the denoiser is left as it is.
import * as tf from '@tensorflow/tfjs-core';
import type { DenoiseModel } from '../engine/denoiser';
import { withBatchLimit } from '../engine/gpu/batchLimit';
import { DispatchTracer, type StepTrace } from '../engine/gpu/dispatchTrace';
import { F16_CHECKS } from '../engine/gpu/f16Checks';
import {
  maxBatchForLimits,
  type BatchLimit,
  type GpuLimits,
  type ModelFootprint,
} from '../engine/gpu/limits';
import { planPrecision, type PrecisionPlan } from '../engine/gpu/precision';
import { registerWebGpuBackend, webGpuDeviceInfo } from '../engine/gpu/webgpuDevice';

export { registerWebGpuBackend };

/** What the worker reports about the GPU path (with `evaluate`, and in the backend's title). */
export interface GpuPathReport {
  shaderF16: boolean;
  limits: GpuLimits | null;
  footprint: ModelFootprint | null;
  batchLimit: BatchLimit | null;
  /** float16 where shader-f16 and the model's check allow; what the kernels run is `running`. */
  precision: PrecisionPlan;
  /** tfjs 4.22 has no float16 tensors: its WebGPU kernels store float32 whatever the plan. */
  running: 'float32';
  /** The newest model calls' dispatch traces, oldest first. */
  traces: StepTrace[];
}

const tracer = new DispatchTracer(32);
let footprint: ModelFootprint | null = null;
let modelId: string | null = null;
/** debug=1&gpuBufferLimit=N: pretend the adapter binds at most N bytes (tests of the split). */
let bufferLimitOverride: number | null = null;
let calls = 0;
let lastSplit: number[] | null = null;

const onWebGpu = () => tf.getBackend() === 'webgpu';

function limits(): GpuLimits | null {
  const info = webGpuDeviceInfo();
  if (!info) return null;
  if (bufferLimitOverride === null) return info.limits;
  return {
    ...info.limits,
    maxStorageBufferBindingSize: Math.min(
      info.limits.maxStorageBufferBindingSize,
      bufferLimitOverride,
    ),
  };
}

function batchLimit(): BatchLimit | null {
  const l = limits();
  return l && footprint ? maxBatchForLimits(footprint, l) : null;
}

export function setGpuBufferLimitOverride(bytes: number | null): void {
  bufferLimitOverride = bytes !== null && Number.isFinite(bytes) && bytes > 0 ? bytes : null;
}

/** Called when the backend (re)starts: traces follow the new backend object. */
export function attachGpuTrace(): void {
  if (onWebGpu()) tracer.attach(tf.backend());
}

/**
 * The denoiser the worker runs: on WebGPU, each call traced and limited to what the adapter's
 * buffers hold; elsewhere it passes through. Built once per model; checks the backend per call.
 */
export function gpuDenoiser(model: DenoiseModel, id: string): DenoiseModel {
  modelId = id;
  footprint = null;
  const limited = withBatchLimit(model, {
    maxBatch: () => (onWebGpu() ? (batchLimit()?.maxBatch ?? Infinity) : Infinity),
    onSplit: (sizes) => (lastSplit = sizes),
  });
  const traced = Object.create(limited) as DenoiseModel;
  traced.predict = (x, timesteps, classes) => {
    if (!onWebGpu()) return limited.predict(x, timesteps, classes);
    lastSplit = null;
    calls++;
    return tracer.record(
      `call ${calls}`,
      x.shape[0],
      () => limited.predict(x, timesteps, classes),
      () => lastSplit,
    );
  };
  return traced;
}

/** Grows the footprint with a traced call: the largest tensor it wrote, per image. */
function learnFootprint(trace: StepTrace): void {
  const images = trace.split ? Math.max(...trace.split) : trace.batch;
  if (!(images >= 1) || trace.largestOutputElements === 0) return;
  const perImage = Math.ceil(trace.largestOutputElements / images);
  if (!footprint || perImage > footprint.largestTensorElementsPerSample) {
    footprint = { largestTensorElementsPerSample: perImage };
  }
}

/**
 * Traces one model call made outside the denoiser (the load's warm-up: `call` must issue its
 * kernels before its first await, as warmUp does), to learn the model's largest tensor per image:
 * the basis of the batch limit. On WebGPU only; elsewhere just runs `call`.
 */
export async function measureFootprint(batch: number, call: () => Promise<unknown>): Promise<void> {
  if (!onWebGpu()) {
    await call();
    return;
  }
  const pending = tracer.record('warm-up', batch, call);
  learnFootprint(tracer.traces[tracer.traces.length - 1]);
  await pending;
}

export function gpuPathReport(): GpuPathReport | null {
  const info = webGpuDeviceInfo();
  if (!onWebGpu() || !info) return null;
  return {
    shaderF16: info.shaderF16,
    limits: limits(),
    footprint,
    batchLimit: batchLimit(),
    precision: planPrecision(info.shaderF16, (modelId && F16_CHECKS[modelId]) || null),
    running: 'float32',
    traces: [...tracer.traces],
  };
}
