// Speed of the super-resolution stage on the wasm backend (the app's CPU backend), in Node:
//   node scripts/run.mjs scripts/srSpeed.ts [--write] [--model DIR]
// Times one SR U-Net call at 64x64 (batch 1 and 4; median after a >= 2 s warm-up) and whole 20-step
// DDIM upscales of 4 held-out examples through DiffusionRun (as `npm run upscale` and the panel run
// it). --write stores the numbers in the pipeline card's "speed" (kept across re-exports).
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DiffusionRun } from '../src/engine/run/diffusionRun';
import { SRConditionedModel } from '../src/engine/sr/srDenoiser';
import { startBackend } from './lib/generate';
import { decodePng } from './lib/pngRgb';
import { loadDiskSR } from './lib/upscale';

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const write = args.includes('--write');
  const modelAt = args.indexOf('--model');
  const dir = resolve(modelAt >= 0 ? args[modelAt + 1] : 'public/models/emoji-sr');
  const backend = await startBackend('wasm', console.log);
  if (backend !== 'wasm') throw new Error('the wasm backend did not start');
  const sr = await loadDiskSR(dir);
  const [h, w] = sr.card.imageShape;

  const callMs = (batch: number, reps = 9): number => {
    const x = tf.randomNormal([batch, h, w, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const low = tf.randomUniform([batch, h / 2, w / 2, 3], -1, 1, 'float32', 2) as tf.Tensor4D;
    const call = () => {
      const t0 = performance.now();
      const out = sr.unet.predict(x, 500, low, 0);
      out.dataSync();
      out.dispose();
      return performance.now() - t0;
    };
    const warm = performance.now();
    for (let i = 0; i < 2 || performance.now() - warm < 2000; i++) call();
    const ms = median(Array.from({ length: reps }, call));
    tf.dispose([x, low]);
    return ms;
  };
  const step1 = callMs(1);
  const step4 = callMs(4);

  // The shipped examples: 4 held-out 32x32 emoji.
  const sprite = decodePng(readFileSync(join(dir, 'examples.png')), 'examples.png');
  const side = sprite.height;
  const lowRes = new Float32Array(4 * side * side * 3);
  for (let i = 0; i < 4; i++) {
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        for (let c = 0; c < 3; c++) {
          lowRes[((i * side + y) * side + x) * 3 + c] =
            sprite.rgb[(y * sprite.width + i * side + x) * 3 + c] / 127.5 - 1;
        }
      }
    }
  }
  const upscaleSeconds: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const seeds = [0, 1, 2, 3];
    const t0 = performance.now();
    const model = new SRConditionedModel(sr.unet, sr.card, { lowRes, noiseLevel: 0, seeds });
    const run = new DiffusionRun(model.runModel, {
      sampler: 'DDIM',
      steps: 20,
      spacing: null,
      sigmaSchedule: 'default',
      guidanceScale: 1,
      eta: 0,
      classes: [0, 0, 0, 0],
      seeds,
      inpaint: null,
      img2img: null,
    });
    while (!run.done) run.step();
    run.displaySample();
    run.dispose();
    model.dispose();
    upscaleSeconds.push((performance.now() - t0) / 1000);
  }
  sr.unet.dispose();

  const speed = {
    backend: 'wasm (tfjs-backend-wasm in Node, with the fused GroupNorm kernel)',
    wasm_simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
    wasm_threads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'),
    tfjs: tf.version_core,
    node: process.version,
    cpu: `${cpus()[0]?.model ?? '?'} (${cpus().length} cores)`,
    load_average_1min: Number(loadavg()[0].toFixed(2)),
    one_step_64x64_batch1_ms: Number(step1.toFixed(1)),
    one_step_64x64_batch4_ms: Number(step4.toFixed(1)),
    upscale_4_images_20_steps_ddim_s: Number(median(upscaleSeconds).toFixed(2)),
    upscale_runs_s: upscaleSeconds.map((s) => Number(s.toFixed(2))),
    mmac_per_sample: sr.card.unet.mmacPerSample,
    measured_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    script: 'node scripts/run.mjs scripts/srSpeed.ts --write',
    note: 'other training jobs shared the CPU while this ran (see load_average_1min); an idle machine is faster',
  };
  console.log(JSON.stringify(speed, null, 1));
  if (write) {
    const cardFile = join(dir, 'card.json');
    const card = JSON.parse(readFileSync(cardFile, 'utf8')) as Record<string, unknown>;
    card.speed = speed;
    writeFileSync(cardFile, JSON.stringify(card, null, 1) + '\n');
    console.log(`wrote speed into ${cardFile}`);
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
