// The model benchmark page: our U-Net (tfjs, the app's loader) against the same U-Net in ONNX on
// onnxruntime-web, on one tfjs backend per page load (?backend=wasm|webgl|webgpu), in the same
// browser, on the same inputs, timed alternately. bench/run.mjs drives it and prints the tables.
// Query: backend, threads (1), batches (1,4,16), rounds (5), roundMs (400), maxEvalMs (3000),
// parts (model,conv,overhead,profile,workers), overheadBatches (= batches), peer (none: no ORT),
// loader (tfjs: tfjs-backend-wasm's own loader, to show it fail on an isolated page).
import fixture from '../tests/fixtures/parity-mnist.json';
import onnxUrl from './models/mnist-unet.onnx?url';
import conv64Url from './models/conv-c64.onnx?url';
import conv128Url from './models/conv-c128.onnx?url';
import { isBackendName } from '../src/engine/backendNames';
import type { LoadedModel } from '../src/engine/model';
import { convRoofline, type ConvResult } from './convRoofline';
import { engineOverhead, type OverheadResult } from './engineOverhead';
import { kernelProfile, type KernelProfile } from './kernelProfile';
import { modelInput, type ModelInput } from './inputs';
import { loadOurModel, ourEval, startOurBackend, type OurBackend } from './ours';
import { WorkerEngines, type WorkerEngineInfo } from './workerEngines';
import {
  configureOrt,
  createConvSession,
  createTheirSession,
  theirEval,
  type ConvSession,
  type OrtProvider,
  type TheirSession,
} from './theirs';
import {
  interleaved,
  maxAbsDiff,
  warmUntilSteady,
  type RoundPlan,
  type SteadyPlan,
  type Timed,
} from './timing';

interface Side extends Timed {
  callsPerSec: number;
  imagesPerSec: number;
  gflops: number;
  /** Fraction of the backend's best conv GFLOP/s (filled in once the conv roofline is known). */
  ofConvLimit: number | null;
}

interface Cell {
  images: number;
  cfg: boolean;
  modelBatch: number;
  ours: Side | null;
  theirs: Side | null;
  /** ours / theirs in calls per second: > 1 means we are faster. */
  ratio: number | null;
  /** The same from each side's fastest round: less sensitive to other jobs on the machine. */
  ratioBest: number | null;
  maxAbsDiff: number | null;
  /**
   * parts=workers (wasm, more than one thread): ours in an engine worker as the app runs it,
   * with XNNPACK's pool of every thread (oursWorker, ?wasmMode=threads in the app), and with the
   * batch split across single-threaded helper workers (oursSplit, ?wasmMode=split). All three
   * (oursHybrid below too) include posting inputs and outputs between page and worker.
   */
  oursWorker?: Side | null;
  oursSplit?: Side | null;
  /**
   * The app's default ('hybrid'): XNNPACK's pool in the engine worker for one image, one
   * single-threaded helper per thread for batches.
   */
  oursHybrid?: Side | null;
  /** oursHybrid / theirs in calls per second: the app as it runs against ORT's thread pool. */
  hybridVsTheirs?: number | null;
  /** oursSplit / theirs in calls per second: the app's way against ORT's thread pool. */
  splitVsTheirs?: number | null;
  /** oursSplit / oursWorker in calls per second: > 1 means splitting the batch is faster. */
  splitVsThreads?: number | null;
  /** The same from each side's fastest round. */
  splitVsThreadsBest?: number | null;
  skipped: string | null;
}

export interface PageResult {
  backend: string;
  /** wasm threads asked of both engines (the page's ?threads=N). */
  threads: number;
  ours: OurBackend | null;
  /** The engine-worker contenders of parts=workers, where they ran. */
  workers: { threaded: WorkerEngineInfo; split: WorkerEngineInfo; hybrid: WorkerEngineInfo } | null;
  theirs: { provider: OrtProvider; threads: number; version: string } | null;
  theirsProblem: string | null;
  crossOriginIsolated: boolean;
  userAgent: string;
  hardwareConcurrency: number;
  gflopPerSample: number;
  weightsSha256: string;
  parity: { ours: number | null; theirs: number | null; oursVsTheirs: number | null };
  cells: Cell[];
  conv: ConvResult[];
  convLimitGflops: number | null;
  overhead: OverheadResult[];
  /** Where our evaluation's time goes, per kernel (parts=profile). */
  profile: KernelProfile[];
  errors: string[];
  seconds: number;
}

declare global {
  interface Window {
    benchResult?: PageResult;
    benchFailed?: string;
  }
}

const query = new URLSearchParams(location.search);
const numbers = (key: string, fallback: string) =>
  (query.get(key) ?? fallback).split(',').filter(Boolean).map(Number);
const backendParam = query.get('backend') ?? 'wasm';
/** wasm threads for both engines (1 unless the page is cross-origin isolated). */
const threadsParam = Math.max(1, Math.round(numbers('threads', '1')[0]) || 1);
const batches = numbers('batches', '1,4,16');
const overheadBatches = numbers('overheadBatches', batches.join(','));
const rounds = numbers('rounds', '5')[0];
const roundMs = numbers('roundMs', '400')[0];
const maxEvalMs = numbers('maxEvalMs', '3000')[0];
const parts = new Set((query.get('parts') ?? 'model,conv,overhead,profile,workers').split(','));

const logElement = document.getElementById('log')!;
const errors: string[] = [];
function log(line: string): void {
  console.log(`[bench ${backendParam}] ${line}`);
  logElement.textContent += `${line}\n`;
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Fewer rounds where one call takes seconds (software GPUs), so a run stays bounded. */
const PLAN: RoundPlan = {
  warmup: 2,
  rounds,
  roundMs,
  maxCallsPerRound: 50,
  slowMs: 1500,
  slowRounds: 2,
};

function side(t: Timed, batch: number, gflopPerSample: number): Side {
  const callsPerSec = 1000 / t.msPerCall;
  const imagesPerSec = callsPerSec * batch;
  return {
    ...t,
    callsPerSec,
    imagesPerSec,
    gflops: imagesPerSec * gflopPerSample,
    ofConvLimit: null,
  };
}

async function parityWithFixture(model: LoadedModel, theirs: TheirSession | null) {
  const [b, h, w] = fixture.x_t_shape;
  const input: ModelInput = {
    batch: b,
    x: Float32Array.from(fixture.x_t),
    timesteps: Float64Array.from(fixture.timesteps),
    classes: Int32Array.from(fixture.class_ids),
  };
  if (h * w !== fixture.x_t.length / b) throw new Error('parity fixture is not single-channel');
  const ours = await ourEval(model, input);
  const theirsOut = theirs ? await theirEval(theirs, input) : null;
  return {
    ours: maxAbsDiff(ours, fixture.output),
    theirs: theirsOut ? maxAbsDiff(theirsOut, fixture.output) : null,
    oursVsTheirs: theirsOut ? maxAbsDiff(ours, theirsOut) : null,
  };
}

/**
 * The first calls of either engine cost several times the steady state (JIT, and V8 still
 * compiling the wasm on background threads): batch-1 calls until each engine's time settles,
 * before anything is timed. Skipped on software GPUs, where one call takes seconds.
 */
async function warmUp(
  model: LoadedModel,
  theirs: TheirSession | null,
  workers: WorkerContenders | null,
): Promise<string> {
  const input = modelInput(1, false, model.card.architecture.image_size, model.card.null_class_id);
  const t0 = performance.now();
  await ourEval(model, input);
  if (performance.now() - t0 > 500) return 'one call each (slow backend)';
  // At least 30 calls and 6 in a row within 8%: on 2 cores, V8's background compilation of ORT's
  // 28 MB of wasm competes with the page for a while, and a looser rule let the first (batch-1)
  // cell be timed during it.
  const steady: SteadyPlan = {
    minCalls: 30,
    maxCalls: 120,
    maxMs: 20_000,
    tolerance: 0.08,
    window: 6,
  };
  const ours = await warmUntilSteady(() => ourEval(model, input), steady);
  const theirsCalls = theirs ? await warmUntilSteady(() => theirEval(theirs, input), steady) : 0;
  if (!workers) return `${ours} calls of ours, ${theirsCalls} of ORT`;
  // Batch 2 so that every split worker computes (one image each on 2 cores).
  const two = modelInput(2, false, model.card.architecture.image_size, model.card.null_class_id);
  const threaded = await warmUntilSteady(() => workers.threaded.eval(two), steady);
  const split = await warmUntilSteady(() => workers.split.eval(two), steady);
  const hybrid = await warmUntilSteady(() => workers.hybrid.eval(two), steady);
  await warmUntilSteady(() => workers.hybrid.eval(input), steady); // its thread pool
  return (
    `${ours} calls of ours, ${theirsCalls} of ORT, ${threaded} of the threaded worker, ` +
    `${split} of the split workers, ${hybrid} of the hybrid workers`
  );
}

interface WorkerContenders {
  threaded: WorkerEngines;
  split: WorkerEngines;
  hybrid: WorkerEngines;
}

async function modelCells(
  model: LoadedModel,
  theirs: TheirSession | null,
  gflopPerSample: number,
  workers: WorkerContenders | null,
): Promise<Cell[]> {
  const size = model.card.architecture.image_size;
  const cells: Cell[] = [];
  let msPerImage = 0; // from the largest batch timed so far: predicts the next cell's cost
  for (const images of batches) {
    for (const cfg of [false, true]) {
      const input = modelInput(images, cfg, size, model.card.null_class_id);
      const cell: Cell = {
        images,
        cfg,
        modelBatch: input.batch,
        ours: null,
        theirs: null,
        ratio: null,
        ratioBest: null,
        maxAbsDiff: null,
        skipped: null,
      };
      cells.push(cell);
      const expected = msPerImage * input.batch;
      if (expected > maxEvalMs) {
        cell.skipped = `expected ~${(expected / 1000).toFixed(1)} s per call (> maxEvalMs)`;
        log(`batch ${input.batch}: skipped, ${cell.skipped}`);
        continue;
      }
      // The last output of each side, compared once the timing is done.
      const out: {
        ours?: Float32Array;
        theirs?: Float32Array;
        worker?: Float32Array;
        split?: Float32Array;
        hybrid?: Float32Array;
      } = {};
      const contenders = [
        { name: 'ours', call: async () => void (out.ours = await ourEval(model, input)) },
      ];
      if (theirs) {
        contenders.push({
          name: 'theirs',
          call: async () => void (out.theirs = await theirEval(theirs, input)),
        });
      }
      if (workers) {
        contenders.push(
          {
            name: 'worker',
            call: async () => void (out.worker = await workers.threaded.eval(input)),
          },
          { name: 'split', call: async () => void (out.split = await workers.split.eval(input)) },
          {
            name: 'hybrid',
            call: async () => void (out.hybrid = await workers.hybrid.eval(input)),
          },
        );
      }
      const timed = await interleaved(contenders, PLAN);
      const oursT = timed[0];
      const theirsT = theirs ? timed[1] : undefined;
      cell.ours = side(oursT, input.batch, gflopPerSample);
      msPerImage = Math.max(oursT.msPerCall, theirsT?.msPerCall ?? 0) / input.batch;
      if (theirsT && out.ours && out.theirs) {
        cell.theirs = side(theirsT, input.batch, gflopPerSample);
        cell.ratio = cell.ours.callsPerSec / cell.theirs.callsPerSec;
        cell.ratioBest = Math.min(...theirsT.roundsMs) / Math.min(...oursT.roundsMs);
        cell.maxAbsDiff = maxAbsDiff(out.ours, out.theirs);
      }
      if (workers) {
        const [workerT, splitT, hybridT] = timed.slice(theirs ? 2 : 1);
        cell.oursWorker = side(workerT, input.batch, gflopPerSample);
        cell.oursSplit = side(splitT, input.batch, gflopPerSample);
        cell.oursHybrid = side(hybridT, input.batch, gflopPerSample);
        cell.hybridVsTheirs = cell.theirs
          ? cell.oursHybrid.callsPerSec / cell.theirs.callsPerSec
          : null;
        cell.splitVsThreads = cell.oursSplit.callsPerSec / cell.oursWorker.callsPerSec;
        cell.splitVsThreadsBest = Math.min(...workerT.roundsMs) / Math.min(...splitT.roundsMs);
        cell.splitVsTheirs = cell.theirs
          ? cell.oursSplit.callsPerSec / cell.theirs.callsPerSec
          : null;
        // Same numbers whichever way the batch was computed.
        const worst = Math.max(
          maxAbsDiff(out.ours!, out.worker!),
          maxAbsDiff(out.ours!, out.split!),
          maxAbsDiff(out.ours!, out.hybrid!),
        );
        if (worst > 1e-4) errors.push(`batch ${input.batch}: worker outputs differ by ${worst}`);
        log(
          `batch ${images}${cfg ? ' x2 (CFG)' : ''}, engine workers: 1 x ${threadsParam} threads ` +
            `${cell.oursWorker.callsPerSec.toFixed(2)} evals/s, ${threadsParam} x 1 thread (split) ` +
            `${cell.oursSplit.callsPerSec.toFixed(2)} evals/s, hybrid ` +
            `${cell.oursHybrid.callsPerSec.toFixed(2)} evals/s, split/threads ` +
            `${cell.splitVsThreads.toFixed(2)}`,
        );
      }
      log(
        `batch ${images}${cfg ? ' x2 (CFG)' : ''}: ours ${cell.ours.callsPerSec.toFixed(2)} ` +
          `evals/s` +
          (cell.theirs
            ? `, ORT ${cell.theirs.callsPerSec.toFixed(2)} evals/s, ratio ${cell.ratio!.toFixed(2)}, ` +
              `max |diff| ${cell.maxAbsDiff!.toExponential(2)}`
            : ''),
      );
    }
  }
  return cells;
}

async function main(): Promise<PageResult> {
  const started = performance.now();
  if (!isBackendName(backendParam)) throw new Error(`unknown backend '${backendParam}'`);
  configureOrt(threadsParam);
  const ours = await startOurBackend(
    backendParam,
    threadsParam,
    query.get('loader') === 'tfjs' ? 'tfjs' : 'ours',
  );
  log(
    `tfjs ${ours.name}; adapter: ${JSON.stringify(ours.adapter)}; wasm threads ${ours.wasmThreads}`,
  );
  const model = await loadOurModel(new URL('./models/mnist', location.href).href);
  const gflopPerSample = model.card.gflop_per_sample ?? NaN;

  // peer=none: ours alone (e.g. thread scaling without ORT's threads on the same cores).
  const provider: OrtProvider | null =
    query.get('peer') === 'none'
      ? null
      : backendParam === 'wasm'
        ? 'wasm'
        : backendParam === 'webgpu'
          ? 'webgpu'
          : null;
  let theirs: TheirSession | null = null;
  let theirsProblem: string | null = provider
    ? null
    : query.get('peer') === 'none'
      ? 'left out (peer=none)'
      : `no onnxruntime-web peer for tfjs ${backendParam} (ORT's WebGL backend is deprecated)`;
  if (provider) {
    try {
      theirs = await createTheirSession(onnxUrl, provider);
      log(`onnxruntime-web ${theirs.version}, ${provider} EP, ${theirs.threads} thread(s)`);
    } catch (err) {
      theirsProblem = `onnxruntime-web ${provider}: ${errorText(err)}`;
      log(theirsProblem);
    }
  }

  const parity = await parityWithFixture(model, theirs);
  log(`parity fixture max |diff|: ours ${parity.ours}, ORT ${parity.theirs}`);

  let workers: WorkerContenders | null = null;
  if (parts.has('workers') && backendParam === 'wasm' && threadsParam > 1) {
    const modelUrl = new URL('./models/mnist', location.href).href;
    workers = {
      threaded: await WorkerEngines.start(modelUrl, threadsParam, 'threads'),
      split: await WorkerEngines.start(modelUrl, threadsParam, 'split'),
      hybrid: await WorkerEngines.start(modelUrl, threadsParam, 'hybrid'),
    };
    log(
      `engine workers: ${JSON.stringify(workers.threaded.info)}, ${JSON.stringify(workers.split.info)}, ` +
        JSON.stringify(workers.hybrid.info),
    );
  }
  log(`warm-up: ${await warmUp(model, theirs, workers)}`);
  const cells = parts.has('model') ? await modelCells(model, theirs, gflopPerSample, workers) : [];
  workers?.threaded.stop();
  workers?.split.stop();
  workers?.hybrid.stop();

  let conv: ConvResult[] = [];
  if (parts.has('conv')) {
    const sessions: ConvSession[] = [];
    if (theirs && provider) {
      try {
        sessions.push(await createConvSession(conv64Url, 64, provider));
        sessions.push(await createConvSession(conv128Url, 128, provider));
      } catch (err) {
        errors.push(`ORT conv sessions: ${errorText(err)}`);
      }
    }
    try {
      conv = await convRoofline(sessions, roundMs, log);
    } catch (err) {
      errors.push(`conv roofline: ${errorText(err)}`);
    }
    await Promise.all(sessions.map((s) => s.session.release()));
  }
  const convLimitGflops = conv.length ? Math.max(...conv.map((c) => c.gflops)) : null;
  if (convLimitGflops) {
    for (const cell of cells) {
      for (const s of [cell.ours, cell.theirs]) if (s) s.ofConvLimit = s.gflops / convLimitGflops;
    }
  }

  const overhead: OverheadResult[] = [];
  if (parts.has('overhead')) {
    for (const images of overheadBatches) {
      const cell = cells.find((c) => c.images === images && c.cfg);
      const expected = cell?.ours ? cell.ours.msPerCall : 0;
      if (cell?.skipped || expected > maxEvalMs) {
        log(`engine overhead at ${images} images: skipped (a model call takes > maxEvalMs)`);
        continue;
      }
      try {
        const r = await engineOverhead(model, images, PLAN, backendParam === 'wasm');
        overhead.push(r);
        log(
          `engine overhead, ${images} images + CFG: step ${r.stepMs.toFixed(1)} ms, bare model ` +
            `${r.bareMs.toFixed(1)} ms (${(100 * r.overhead).toFixed(1)}%); frames: model ` +
            `${r.frameModelMs.toFixed(1)} ms, total ${r.frameTotalMs.toFixed(1)} ms`,
        );
      } catch (err) {
        errors.push(`engine overhead at ${images}: ${errorText(err)}`);
      }
    }
  }

  const profile: KernelProfile[] = [];
  if (parts.has('profile')) {
    for (const images of new Set([batches[0], batches[batches.length - 1]])) {
      const cell = cells.find((c) => c.images === images && !c.cfg);
      if (!cell?.ours || cell.ours.msPerCall > maxEvalMs / 2) continue;
      try {
        const input = modelInput(
          images,
          false,
          model.card.architecture.image_size,
          model.card.null_class_id,
        );
        const p = await kernelProfile(model, input);
        profile.push(p);
        log(
          `kernels at batch ${images}: ${p.kernels} per evaluation, ${p.kernelMs.toFixed(1)} ms ` +
            `in kernels of ${p.wallMs.toFixed(1)} ms; ` +
            p.top
              .slice(0, 5)
              .map((k) => `${k.name} ${((100 * k.ms) / p.kernelMs).toFixed(0)}%`)
              .join(', '),
        );
      } catch (err) {
        errors.push(`kernel profile at ${images}: ${errorText(err)}`);
      }
    }
  }

  model.unet.dispose();
  await theirs?.session.release();
  return {
    backend: backendParam,
    threads: threadsParam,
    ours,
    workers: workers
      ? { threaded: workers.threaded.info, split: workers.split.info, hybrid: workers.hybrid.info }
      : null,
    theirs: theirs
      ? { provider: theirs.provider, threads: theirs.threads, version: theirs.version }
      : null,
    theirsProblem,
    crossOriginIsolated,
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
    gflopPerSample,
    weightsSha256: model.card.weights.sha256,
    parity,
    cells,
    conv,
    convLimitGflops,
    overhead,
    profile,
    errors,
    seconds: (performance.now() - started) / 1000,
  };
}

main().then(
  (result) => {
    window.benchResult = result;
    log(`done in ${result.seconds.toFixed(1)} s`);
  },
  (err: unknown) => {
    window.benchFailed = errorText(err);
    log(`FAILED: ${window.benchFailed}`);
  },
);
