// Pieces several schedulers share. Each is a direct port of the diffusers helper it names.
import * as tf from '@tensorflow/tfjs-core';
// Registers tensor.mul(...)-style chained ops (runtime and types), which tfjs-core alone lacks.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { PredictionType } from './types';

/** Fill defaults, dropping keys whose value is undefined; decode "Infinity" strings (FORMAT.md §3). */
export function withDefaults<C extends object>(
  defaults: C,
  overrides?: Record<string, unknown>,
): C {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (value === undefined) continue;
    out[key] = value === 'Infinity' || value === '-Infinity' ? Number(value) : value;
  }
  return out as C;
}

/**
 * diffusers' `index_for_timestep`: the position of a timestep in the plan. The first match, or
 * the second when it occurs more than once, so that starting mid-way through a Heun or KDPM2 plan
 * (which repeat timesteps) does not skip a sigma.
 */
export function indexForTimestep(timestep: number, timesteps: ArrayLike<number>): number {
  const matches: number[] = [];
  const t = Math.fround(timestep);
  for (let i = 0; i < timesteps.length; i++) if (timesteps[i] === t) matches.push(i);
  if (matches.length === 0) {
    throw new Error(`timestep ${timestep} is not in the scheduler's timesteps`);
  }
  return matches.length > 1 ? matches[1] : matches[0];
}

/**
 * x_0 from a model output, for alpha/sigma parameterised schedulers:
 * epsilon: (x - sigma_t eps) / alpha_t; sample: the output itself; v: alpha_t x - sigma_t v.
 */
export function predictX0(
  predictionType: PredictionType,
  modelOutput: Tensor,
  sample: Tensor,
  alphaT: number,
  sigmaT: number,
): Tensor {
  return tf.tidy(() => {
    if (predictionType === 'epsilon') return sample.sub(modelOutput.mul(sigmaT)).div(alphaT);
    if (predictionType === 'sample') return modelOutput.clone();
    if (predictionType === 'v_prediction') return sample.mul(alphaT).sub(modelOutput.mul(sigmaT));
    throw new Error(`prediction_type '${String(predictionType)}' is not supported`);
  });
}

/**
 * Dynamic thresholding (Saharia et al. 2022, Imagen): per sample, s = the `ratio` quantile of
 * |x_0|, clamped to [1, maxValue]; x_0 is clamped to [-s, s] and divided by s. The quantile comes
 * from tf.topk on the backend (no read-back), with torch.quantile's linear interpolation.
 */
export function thresholdSample(sample: Tensor, ratio: number, maxValue: number): Tensor {
  const batch = sample.shape[0];
  const perItem = sample.size / batch;
  const pos = ratio * (perItem - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, perItem - 1);
  return tf.tidy(() => {
    const flat = sample.reshape([batch, perItem]);
    // Descending top-k: ascending index i sits at descending index perItem - 1 - i.
    const k = perItem - lo;
    const top = tf.topk(flat.abs(), k, true).values;
    const atLo = top.slice([0, k - 1], [batch, 1]);
    const atHi = top.slice([0, perItem - 1 - hi], [batch, 1]);
    const quantile = atLo.add(atHi.sub(atLo).mul(pos - lo));
    // torch.clamp(min=1, max=maxValue): the max wins when maxValue < 1.
    const s = tf.minimum(tf.maximum(quantile, 1), maxValue);
    return tf.minimum(tf.maximum(flat, s.neg()), s).div(s).reshape(sample.shape);
  });
}

/** A bounded FIFO of tensors the scheduler owns (model outputs of earlier steps). */
export class TensorHistory {
  private items: Tensor[] = [];
  constructor(private readonly capacity: number) {}

  /** Keeps a copy of `t`; the oldest entry is disposed once the history is full. */
  push(t: Tensor): void {
    this.items.push(tf.keep(t.clone()));
    while (this.items.length > this.capacity) this.items.shift()?.dispose();
  }

  /** i = 0 is the newest, 1 the one before, ... */
  fromNewest(i: number): Tensor {
    const item = this.items[this.items.length - 1 - i];
    if (!item) throw new Error(`history has no entry ${i}`);
    return item;
  }

  get length(): number {
    return this.items.length;
  }

  clear(): void {
    for (const t of this.items) t.dispose();
    this.items = [];
  }
}
