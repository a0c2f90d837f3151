// Where one U-Net evaluation spends its time, kernel by kernel (tf.profile), in Node:
//   node scripts/run.mjs bench/profile-ops.ts [--backend wasm|cpu] [--batch 1] [--repeats 5]
// Node runs the same tfjs-backend-wasm binary as a non-isolated page (SIMD, one thread), so the
// per-kernel split carries over to the browser's wasm backend.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadUNet, parseModelCard } from '../src/engine/model';
import { startBackend } from '../scripts/lib/generate';
import { modelInput } from './inputs';
import { median } from './timing';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

interface KernelTotal {
  calls: number;
  /** Total time of this kernel in each repeat: the median resists a preempted repeat. */
  perRepeat: number[];
  ms: number;
}

async function main(): Promise<void> {
  const backend = option('backend', 'wasm');
  const batch = Number(option('batch', '1'));
  const repeats = Number(option('repeats', '5'));
  if (backend !== 'wasm' && backend !== 'cpu') throw new Error('--backend must be wasm or cpu');
  const started = await startBackend(backend, console.log);
  if (started !== backend) throw new Error(`backend ${backend} did not start`);
  const dir = join(process.cwd(), 'public', 'models', 'mnist');
  const card = parseModelCard(JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8')), 'card');
  const bytes = readFileSync(join(dir, card.weights.file));
  const unet = await loadUNet(
    card,
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer,
  );
  const input = modelInput(batch, false, card.architecture.image_size, card.null_class_id);
  const x = tf.tensor4d(input.x, [batch, 28, 28, 1]);
  const evaluate = () => {
    const out = unet.predict(x, input.timesteps, input.classes);
    out.dataSync();
    out.dispose();
  };
  for (let i = 0; i < 10; i++) evaluate(); // warm-up: JIT, XNNPACK operator creation
  const totals = new Map<string, KernelTotal>();
  let wallMs = 0;
  let kernelCount = 0;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const info = await tf.profile(evaluate);
    wallMs += performance.now() - t0;
    kernelCount = info.kernels.filter((k) => !k.name.endsWith('__op')).length;
    // Composite ops (names ending in __op) wrap kernels that are listed too: count kernels once.
    for (const k of info.kernels.filter((k) => !k.name.endsWith('__op'))) {
      const t = totals.get(k.name) ?? { calls: 0, perRepeat: [], ms: 0 };
      t.calls += 1;
      t.perRepeat[r] = (t.perRepeat[r] ?? 0) + (k.kernelTimeMs as number);
      totals.set(k.name, t);
    }
  }
  // Plain timing, without the profiler's per-kernel bookkeeping (median of single evaluations).
  const plain: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    evaluate();
    plain.push(performance.now() - t0);
  }
  const plainMs = median(plain);
  for (const t of totals.values()) t.ms = median(t.perRepeat.map((v) => v ?? 0));
  const kernelMs = [...totals.values()].reduce((s, t) => s + t.ms, 0);
  console.log(
    `${backend}, batch ${batch}: ${plainMs.toFixed(1)} ms per evaluation (plain), ` +
      `${kernelCount} kernels, sum of kernel times ${kernelMs.toFixed(1)} ms ` +
      `(profiled wall ${(wallMs / repeats).toFixed(1)} ms); per kernel: median over repeats`,
  );
  const rows = [...totals.entries()].sort((a, b) => b[1].ms - a[1].ms);
  for (const [name, t] of rows) {
    const ms = t.ms;
    console.log(
      `${name.padEnd(24)} ${String(t.calls / repeats).padStart(5)} calls ${ms.toFixed(2).padStart(8)} ms ` +
        `${((100 * ms) / kernelMs).toFixed(1).padStart(5)}%`,
    );
  }
  x.dispose();
  unet.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
