// "The machine's limit" for context: the throughput of a lone, well-shaped 3x3 conv on a backend
// (the U-Net's FLOPs are almost all 3x3 convs). Several shapes are tried on both engines; the
// best GFLOP/s seen on the backend is the limit the model's throughput is compared with.
import * as tf from '@tensorflow/tfjs-core';
import { Xoshiro128, gaussianArray } from '../src/engine/gaussian';
import { runConv, type ConvSession } from './theirs';

export interface ConvShape {
  batch: number;
  size: number;
  channels: number;
}

/** 64 channels is the U-Net's widest layer; 128 shows whether wider would run closer to peak. */
export const CONV_SHAPES: ConvShape[] = [
  { batch: 16, size: 28, channels: 64 },
  { batch: 32, size: 14, channels: 64 },
  { batch: 32, size: 14, channels: 128 },
];

export interface ConvResult extends ConvShape {
  engine: 'ours' | 'theirs';
  /** Fastest round's time per conv: a limit is the best the backend was seen to do. */
  msPerConv: number;
  gflops: number;
}

export function convFlop({ batch, size, channels }: ConvShape): number {
  return 2 * batch * size * size * channels * channels * 9;
}

const ROUNDS = 3;
/** A conv slower than this (software GPUs) is timed once more instead of in rounds. */
const SLOW_MS = 1500;

async function timeRounds(run: (calls: number) => Promise<void>, targetMs: number) {
  await run(1); // warm-up: kernel compilation, buffer pools
  const t0 = performance.now();
  await run(1);
  const one = performance.now() - t0;
  if (one > SLOW_MS) return one;
  const calls = Math.max(1, Math.min(10, Math.round(targetMs / Math.max(one, 1e-3))));
  let best = one;
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    await run(calls);
    best = Math.min(best, (performance.now() - start) / calls);
  }
  return best;
}

/** tf.fused.conv2d with bias, as the U-Net calls it; only the last output is read back. */
async function ourConv(shape: ConvShape, x: Float32Array, targetMs: number): Promise<number> {
  const { batch, size, channels } = shape;
  const rng = new Xoshiro128(channels);
  const input = tf.tensor4d(x, [batch, size, size, channels]);
  const filter = tf.tensor4d(gaussianArray(rng, 9 * channels * channels), [
    3,
    3,
    channels,
    channels,
  ]);
  const bias = tf.tensor1d(gaussianArray(rng, channels));
  try {
    return await timeRounds(async (calls) => {
      let last: tf.Tensor | null = null;
      for (let i = 0; i < calls; i++) {
        last?.dispose();
        last = tf.fused.conv2d({ x: input, filter, bias, strides: 1, pad: 'same' });
      }
      await last!.data();
      last!.dispose();
    }, targetMs);
  } finally {
    tf.dispose([input, filter, bias]);
  }
}

export async function convRoofline(
  sessions: ConvSession[],
  targetMs: number,
  log: (line: string) => void,
): Promise<ConvResult[]> {
  const results: ConvResult[] = [];
  for (const shape of CONV_SHAPES) {
    const { batch, size, channels } = shape;
    const x = gaussianArray(new Xoshiro128(batch * size), batch * size * size * channels);
    const record = (engine: ConvResult['engine'], msPerConv: number) => {
      const gflops = convFlop(shape) / msPerConv / 1e6;
      results.push({ ...shape, engine, msPerConv, gflops });
      log(
        `conv ${channels}->${channels} 3x3 ${batch}x${size}x${size} ${engine}: ${gflops.toFixed(2)} GFLOP/s`,
      );
    };
    const ours = await ourConv(shape, x, targetMs);
    record('ours', ours);
    const session = sessions.find((s) => s.channels === channels);
    if (session) {
      // ORT is NCHW: the same values in another layout make no difference to the timing.
      const nchw: [number, number, number, number] = [batch, channels, size, size];
      record('theirs', await timeRounds((calls) => runConv(session, x, nchw, calls), targetMs));
    }
    // A software GPU takes seconds per conv and no shape is "well-shaped" for it: one is enough.
    if (ours > SLOW_MS) {
      log(`conv: ${ours.toFixed(0)} ms per conv, the other shapes are skipped`);
      break;
    }
  }
  return results;
}
