// Per-kernel time of one of our U-Net evaluations (tf.profile), to see where the time goes on a
// backend. On wasm the kernels run synchronously, so kernelTimeMs is the kernel's own time; on
// WebGL/WebGPU it is GPU time where the backend can measure it.
import * as tf from '@tensorflow/tfjs-core';
import type { LoadedModel } from '../src/engine/model';
import type { ModelInput } from './inputs';

export interface KernelShare {
  name: string;
  calls: number;
  ms: number;
}

export interface KernelProfile {
  batch: number;
  kernels: number;
  kernelMs: number;
  wallMs: number;
  top: KernelShare[];
}

export async function kernelProfile(
  model: LoadedModel,
  input: ModelInput,
  repeats = 3,
): Promise<KernelProfile> {
  const size = model.card.architecture.image_size;
  const x = tf.tensor4d(input.x, [input.batch, size, size, 1]);
  const evaluate = () => model.unet.predict(x, input.timesteps, input.classes);
  const totals = new Map<string, KernelShare>();
  let wallMs = 0;
  let kernels = 0;
  try {
    tf.dispose(evaluate()); // warm-up
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      let out: tf.Tensor | null = null;
      const info = await tf.profile(() => (out = evaluate()));
      await out!.data();
      tf.dispose(out!);
      wallMs += performance.now() - t0;
      // Composite ops (names ending in __op) wrap kernels that are listed too: count kernels once.
      const own = info.kernels.filter((k) => !k.name.endsWith('__op'));
      kernels = own.length;
      for (const k of own) {
        const t = totals.get(k.name) ?? { name: k.name, calls: 0, ms: 0 };
        t.calls += 1 / repeats;
        const ms = await k.kernelTimeMs;
        t.ms += (typeof ms === 'number' ? ms : 0) / repeats;
        totals.set(k.name, t);
      }
    }
  } finally {
    x.dispose();
  }
  const top = [...totals.values()].sort((a, b) => b.ms - a.ms);
  return {
    batch: input.batch,
    kernels,
    kernelMs: top.reduce((s, k) => s + k.ms, 0),
    wallMs: wallMs / repeats,
    top: top.slice(0, 12),
  };
}
