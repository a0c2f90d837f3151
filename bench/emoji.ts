// Speed of the emoji latent pipeline in Node on the wasm backend (what a browser without a GPU
// runs): text encoding, one guided denoising step of 4 images (8 through the U-Net), the VAE
// decoder on 4 latents, and a whole 20-step generation of 4 images (issue 10: under 3 s on wasm).
//   node scripts/run.mjs bench/emoji.ts [--backend wasm|cpu] [--reps N] [--model DIR] [--profile]
//
// Measured 2026-12-05 on the 2-core dev machine while PyTorch trainings held it (load average ~23),
// tfjs-backend-wasm SIMD, single-threaded: CPU time (what an idle core would take) / wall time:
//   text encoding 0.9-1.3 ms; U-Net batch 8 51-54 ms / 690-740 ms; guided step of 4 51-58 ms;
//   VAE decode of 4 48 ms / 600-650 ms; 20-step generation of 4 (DPM++ 2M, CFG 5) 1.08-1.13 s /
//   13-15 s. Under 3 s on an idle core; the wall time here is the machine's load, not the work.
import * as tf from '@tensorflow/tfjs-core';
import { guidedModelOutput } from '../src/engine/denoiser';
import { startBackend, type CliBackend } from '../scripts/lib/generate';
import { generateEmojiBatch, loadDiskPipeline } from '../scripts/lib/emojiGenerate';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** CPU time of this process in ms (user + system). */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Median and best of `reps` timed calls after warm-up (V8 tiers wasm up over the first calls).
 * Wall time, and this process's CPU time: on a machine shared with other jobs (trainings here) the
 * wall time includes waiting for a core, the CPU time is what the work itself took. wasm without
 * threads runs on one core, so on an idle core the wall time would be about the CPU time.
 */
function time(what: string, reps: number, fn: () => void, warmMs = 1500): void {
  const start = performance.now();
  for (let w = 0; w < 2 || performance.now() - start < warmMs; w++) fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const c0 = cpuMs();
    fn();
    cpu.push(cpuMs() - c0);
    wall.push(performance.now() - t0);
  }
  const f = (v: number) => v.toFixed(1).padStart(8);
  console.log(
    `${what.padEnd(52)} wall median ${f(median(wall))} ms, best ${f(Math.min(...wall))} ms | ` +
      `cpu median ${f(median(cpu))} ms, best ${f(Math.min(...cpu))} ms (${reps} runs)`,
  );
}

/** Time per kernel (wasm kernels run synchronously: kernelTimeMs is their own time). */
async function profile(what: string, fn: () => tf.Tensor): Promise<void> {
  tf.dispose(fn());
  const totals = new Map<string, { calls: number; ms: number }>();
  const info = await tf.profile(() => tf.dispose(fn()));
  for (const k of info.kernels.filter((k) => !k.name.endsWith('__op'))) {
    const t = totals.get(k.name) ?? { calls: 0, ms: 0 };
    t.calls++;
    t.ms += Number(await k.kernelTimeMs) || 0;
    totals.set(k.name, t);
  }
  const rows = [...totals.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((s, [, t]) => s + t.ms, 0);
  const calls = rows.reduce((s, [, t]) => s + t.calls, 0);
  console.log(`${what}: ${calls} kernels, ${total.toFixed(1)} ms of kernel time`);
  for (const [name, t] of rows.slice(0, 14)) {
    console.log(
      `  ${name.padEnd(28)} ${String(t.calls).padStart(4)} calls ${t.ms.toFixed(1).padStart(8)} ms`,
    );
  }
}

async function main(): Promise<void> {
  const backend = (await startBackend(arg('backend', 'wasm') as CliBackend, console.log)) as string;
  const reps = Number(arg('reps', '7'));
  const pipe = await loadDiskPipeline(arg('model', 'public/models/emoji'));
  console.log(`emoji pipeline on ${backend} (${tf.getBackend()}), ${new Date().toISOString()}`);

  time('text encoding of one prompt', reps * 3, () => {
    pipe.encodePrompt('grinning face with big eyes').hidden.dispose();
  });

  pipe.setPrompt('cat face');
  const x = tf.randomNormal([4, 8, 8, 4], 0, 1, 'float32', 3) as tf.Tensor4D;
  if (process.argv.includes('--profile')) {
    await profile('U-Net batch 8', () =>
      pipe.denoiser.predict(tf.concat([x, x]), new Array(8).fill(500), [0, 0, 0, 0, 1, 1, 1, 1]),
    );
    await profile('VAE decode of 4', () => pipe.decode(x));
  }
  time('U-Net alone, batch 8', reps, () => {
    const out = pipe.denoiser.predict(tf.concat([x, x]), new Array(8).fill(500), [
      ...new Array(4).fill(0),
      ...new Array(4).fill(1),
    ]);
    out.dataSync();
    out.dispose();
  });
  time('one guided step of 4 images (U-Net batch 8 + CFG)', reps, () => {
    const out = guidedModelOutput(pipe.denoiser, x, 500, [0, 0, 0, 0], 5);
    out.dataSync();
    out.dispose();
  });
  time('VAE decode of 4 latents', reps, () => {
    const out = pipe.decode(x);
    out.dataSync();
    out.dispose();
  });
  x.dispose();

  const options = {
    prompt: 'cat face',
    negativePrompt: '',
    seeds: [1, 2, 3, 4],
    sampler: 'DPM++ 2M',
    steps: 20,
    guidance: 5,
    eta: 0,
    spacing: null,
    schedule: 'default' as const,
  };
  time(
    '20-step generation of 4 images (DPM++ 2M, CFG 5)',
    Math.max(3, reps >> 1),
    () => {
      generateEmojiBatch(pipe, options); // prompts encoded, 20 DiffusionRun steps, decode
    },
    0,
  );
  pipe.dispose();
}

void main();
