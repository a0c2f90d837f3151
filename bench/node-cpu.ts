// The model benchmark's load-proof companion, in Node: the same two wasm engines (tfjs-backend-wasm
// and onnxruntime-web's wasm, one thread each, no SIMD/thread differences from a page that is not
// cross-origin isolated) timed in CPU time of this process, which other jobs on the machine do
// not inflate the way they inflate wall-clock time. Also the engine's own overhead per step
// (RunController + DiffusionRun, DPM++ 2M, guidance, mask, frames), as CPU time outside the model.
//   node scripts/run.mjs bench/node-cpu.ts [--batches 1,4,16] [--rounds 5] [--round-ms 300] [--out FILE]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-web';
import { startBackend } from '../scripts/lib/generate';
import { loadUNet, parseModelCard, runModelFromUNet, type LoadedModel } from '../src/engine/model';
import type { DenoiseModel } from '../src/engine/denoiser';
import type { FromWorker } from '../src/worker/protocol';
import { RunController } from '../src/worker/runController';
import { modelInput, type ModelInput } from './inputs';
import { ourEval } from './ourEval';
import { theirEval, type TheirSession } from './theirEval';
import { maxAbsDiff, median, warmUntilSteady, type SteadyPlan } from './timing';
import { overheadSettings } from './overheadSettings';

const ROOT = process.cwd();

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const SCHEDSTAT = '/proc/thread-self/schedstat';
const hasSchedstat = existsSync(SCHEDSTAT);

/**
 * CPU time of this (the main) thread in ms, where both engines compute (one wasm thread each).
 * Not the process's: V8 keeps compiling ORT's 28 MB of wasm on background threads for many
 * seconds after it loads (measured: 0.5 s of CPU per idle 2 s), which would be billed to
 * whichever engine happens to be running. Linux gives per-thread time in ns; elsewhere, fall
 * back to the process's time.
 */
function cpuMs(): number {
  if (hasSchedstat) return Number(readFileSync(SCHEDSTAT, 'utf8').split(' ')[0]) / 1e6;
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function cpuOf(call: () => Promise<unknown>): Promise<number> {
  const t0 = cpuMs();
  await call();
  return cpuMs() - t0;
}

/**
 * CPU time per call, from as many calls as fit in `roundMs` of CPU time. The kernel updates a
 * running thread's schedstat only at scheduler ticks (here up to 4 ms apart), so one short call
 * can read 16 or 20 ms for the same work; over a round the error is one tick in total.
 */
async function cpuPerCall(call: () => Promise<unknown>, roundMs: number): Promise<number> {
  const t0 = cpuMs();
  let calls = 0;
  do {
    await call();
    calls++;
  } while (cpuMs() - t0 < roundMs);
  return (cpuMs() - t0) / calls;
}

export interface NodeCell {
  images: number;
  cfg: boolean;
  modelBatch: number;
  oursCpuMs: number;
  theirsCpuMs: number;
  /** theirs / ours CPU time per call = ours / theirs in evaluations per second. */
  ratio: number;
  maxAbsDiff: number;
}

export interface NodeOverhead {
  images: number;
  modelBatch: number;
  stepCpuMs: number;
  modelCpuMs: number;
  /** (step - model) / model, CPU time within the same steps. */
  overhead: number;
}

async function loadOurs(): Promise<LoadedModel> {
  const dir = join(ROOT, 'public', 'models', 'mnist');
  const card = parseModelCard(JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8')), 'card');
  const bytes = readFileSync(join(dir, card.weights.file));
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  return { card, unet: await loadUNet(card, buffer as ArrayBuffer) };
}

async function loadTheirs(): Promise<TheirSession> {
  // Bundled by scripts/run.mjs, ORT cannot find its wasm next to itself: point it at the package.
  ort.env.wasm.wasmPaths = pathToFileURL(join(ROOT, 'node_modules/onnxruntime-web/dist/')).href;
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(
    readFileSync(join(ROOT, 'bench/models/mnist-unet.onnx')),
    { executionProviders: ['wasm'], graphOptimizationLevel: 'all' },
  );
  return { provider: 'wasm', session, threads: 1, version: ort.env.versions.web ?? 'unknown' };
}

async function cell(
  ours: LoadedModel,
  theirs: TheirSession,
  input: ModelInput,
  rounds: number,
  roundMs: number,
): Promise<Omit<NodeCell, 'images' | 'cfg'>> {
  const a: number[] = [];
  const b: number[] = [];
  let oursOut = await ourEval(ours, input);
  let theirsOut = await theirEval(theirs, input);
  // A new batch size sets up new operators on both sides.
  await ourEval(ours, input);
  await theirEval(theirs, input);
  for (let r = 0; r < rounds; r++) {
    // Alternate which goes first, as the page does.
    const first = r % 2 === 0;
    const runOurs = async () => (oursOut = await ourEval(ours, input));
    const runTheirs = async () => (theirsOut = await theirEval(theirs, input));
    if (first) a.push(await cpuPerCall(runOurs, roundMs));
    b.push(await cpuPerCall(runTheirs, roundMs));
    if (!first) a.push(await cpuPerCall(runOurs, roundMs));
  }
  return {
    modelBatch: input.batch,
    oursCpuMs: median(a),
    theirsCpuMs: median(b),
    ratio: median(b) / median(a),
    maxAbsDiff: maxAbsDiff(oursOut, theirsOut),
  };
}

async function overhead(model: LoadedModel, images: number, steps: number): Promise<NodeOverhead> {
  const runModel = runModelFromUNet(model.unet, model.card);
  let modelCpu = 0;
  const inner = runModel.denoiser;
  // wasm kernels run synchronously inside predict(): its CPU time is the model's whole cost.
  const timed: DenoiseModel = {
    ...inner,
    predict: (x, t, c) => {
      const t0 = cpuMs();
      try {
        return inner.predict(x, t, c);
      } finally {
        modelCpu += cpuMs() - t0;
      }
    },
  };
  const controller = new RunController(
    (m: FromWorker) => {
      if (m.type === 'error') throw new Error(`${m.context}: ${m.message}`);
    },
    (fn) => setTimeout(fn, 0),
  );
  await controller.setModel({ ...runModel, denoiser: timed });
  await controller.start(1, overheadSettings(images, model.card.architecture.image_size), false);
  // Totals, not medians: each reading lags the true CPU time by up to a scheduler tick (see
  // cpuPerCall), an error that averages out over a sum but biases a median of short intervals.
  let stepTotal = 0;
  let modelTotal = 0;
  for (let i = 0; i < steps + 2; i++) {
    modelCpu = 0;
    const dt = await cpuOf(() => controller.step());
    // The first two steps compile and run DPM++'s first-order start: not the steady state.
    if (i >= 2) {
      stepTotal += dt;
      modelTotal += modelCpu;
    }
  }
  await controller.cancel();
  const stepCpuMs = stepTotal / steps;
  const modelCpuMs = modelTotal / steps;
  return {
    images,
    modelBatch: 2 * images,
    stepCpuMs,
    modelCpuMs,
    overhead: stepCpuMs / modelCpuMs - 1,
  };
}

async function main(): Promise<void> {
  const batches = option('batches', '1,4,16').split(',').map(Number);
  const rounds = Number(option('rounds', '5'));
  const roundMs = Number(option('round-ms', '300'));
  const out = option('out', '');
  const backend = await startBackend('wasm', console.log);
  if (backend !== 'wasm') throw new Error('tfjs wasm did not start in Node');
  const ours = await loadOurs();
  const theirs = await loadTheirs();
  const size = ours.card.architecture.image_size;
  // Until each engine's time per call settles (wasm tier-up, JIT): see warmUntilSteady. By the
  // wall clock: the CPU clock moves in scheduler ticks (see cpuPerCall), so four 16 ms calls can
  // all read the same and look settled while V8 is still compiling.
  const warm = modelInput(1, false, size, ours.card.null_class_id);
  const steady: SteadyPlan = {
    minCalls: 30,
    maxCalls: 80,
    maxMs: 40_000,
    tolerance: 0.05,
    window: 4,
  };
  const warmCalls = [
    await warmUntilSteady(() => ourEval(ours, warm), steady),
    await warmUntilSteady(() => theirEval(theirs, warm), steady),
  ];
  console.log(`node cpu: warm-up ${warmCalls[0]} calls of ours, ${warmCalls[1]} of ORT`);
  const cells: NodeCell[] = [];
  for (const images of batches) {
    for (const cfg of [false, true]) {
      const input = modelInput(images, cfg, size, ours.card.null_class_id);
      const r = { images, cfg, ...(await cell(ours, theirs, input, rounds, roundMs)) };
      cells.push(r);
      console.log(
        `node cpu, ${images}${cfg ? ' +CFG' : ''} (batch ${r.modelBatch}): ours ` +
          `${r.oursCpuMs.toFixed(1)} ms, ORT ${r.theirsCpuMs.toFixed(1)} ms per evaluation, ` +
          `ours/ORT speed ${r.ratio.toFixed(2)}, max |diff| ${r.maxAbsDiff.toExponential(1)}`,
      );
    }
  }
  const overheads: NodeOverhead[] = [];
  for (const images of batches) {
    const o = await overhead(ours, images, images >= 16 ? 6 : images >= 4 ? 12 : 30);
    overheads.push(o);
    console.log(
      `node cpu, engine overhead at ${images} +CFG: step ${o.stepCpuMs.toFixed(1)} ms, model ` +
        `${o.modelCpuMs.toFixed(1)} ms, overhead ${(100 * o.overhead).toFixed(1)}%`,
    );
  }
  const result = {
    clock: hasSchedstat ? 'main-thread CPU time (/proc/thread-self/schedstat)' : 'process CPU time',
    node: process.version,
    ortVersion: theirs.version,
    threads: 1,
    cells,
    overhead: overheads,
  };
  if (out) writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  ours.unet.dispose();
  await theirs.session.release();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
