// `npm run bench`: builds the benchmark page (and the app), serves it, drives Debian's chromium
// through Playwright over every backend, prints the tables, writes bench/results-model.json, then
// runs the app-level benchmark (bench/app.mjs) when it exists.
//
//   node bench/run.mjs [--no-build] [--backends wasm,webgl,webgpu]
//                      [--batches 1,4,16] [--rounds 5] [--round-ms 400] [--port 4221]
//                      [--threads 1,<cores>] [--no-isolation] [--pause <regex>]
//                      [--no-node] [--no-app]
//
// The page is served cross-origin isolated (COOP/COEP, as the app), so both wasm engines may run
// threads. wasm gets one page per thread setting (--threads, default 1 and every core): ours and
// onnxruntime-web with the same thread count, alternating, in the same page; pages with more than
// one thread also time ours in engine workers, one worker with every thread (as the app) against
// the batch split across single-threaded workers. The report adds each engine's speed-up from 1
// thread to the most. --no-isolation serves the page without the headers (one thread each).
// --pause <regex>: SIGSTOP the processes whose command line matches (pkill -f) while each page
// is measured, SIGCONT right after (and on exit); recorded in the results.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { CHROMIUM_BASE_ARGS, CHROMIUM_EXECUTABLE } from './chromium.mjs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import prettier from 'prettier';
import { printReport } from './report.mjs';
import { serveStatic } from './serve.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PAGE_TIMEOUT_MS = 300_000;

function parseArgs(argv) {
  const opts = {
    build: true,
    app: true,
    node: true,
    backends: ['wasm', 'webgl', 'webgpu'],
    batches: '1,4,16',
    rounds: '5',
    roundMs: '400',
    port: Number(process.env.BENCH_PORT ?? 4221),
    threads: [...new Set([1, cpus().length])],
    isolation: true,
    pause: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--no-build') opts.build = false;
    else if (a === '--no-app') opts.app = false;
    else if (a === '--no-node') opts.node = false;
    else if (a === '--backends') opts.backends = next().split(',');
    else if (a === '--batches') opts.batches = next();
    else if (a === '--rounds') opts.rounds = next();
    else if (a === '--round-ms') opts.roundMs = next();
    else if (a === '--port') opts.port = Number(next());
    else if (a === '--threads') opts.threads = next().split(',').map(Number);
    else if (a === '--no-isolation') opts.isolation = false;
    else if (a === '--pause') opts.pause = next();
    else if (a === '--help') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\nimport')[0]);
      process.exit(0);
    } else throw new Error(`unknown option ${a} (try --help)`);
  }
  return opts;
}

const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The ONNX file must come from the weights the app ships; re-export when they changed. */
function ensureOnnx() {
  const card = JSON.parse(readFileSync(join(ROOT, 'public/models/mnist/card.json'), 'utf8'));
  const recordPath = join(ROOT, 'bench/models/mnist-unet.onnx.json');
  const fresh = () => {
    if (!existsSync(recordPath)) return false;
    const record = JSON.parse(readFileSync(recordPath, 'utf8'));
    return (
      record.source_weights_sha256 === card.weights.sha256 &&
      existsSync(join(ROOT, record.onnx)) &&
      sha256(join(ROOT, record.onnx)) === record.onnx_sha256
    );
  };
  if (fresh()) return;
  console.log('bench/models/mnist-unet.onnx is missing or stale: exporting it (PyTorch)');
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const r = spawnSync(python, ['training/export_onnx.py'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0 || !fresh()) {
    throw new Error(
      'could not export the ONNX model: run /usr/bin/python3 training/export_onnx.py',
    );
  }
}

function build(opts) {
  const vite = (args) =>
    execFileSync('npx', ['vite', 'build', '--logLevel', 'warn', ...args], {
      cwd: ROOT,
      stdio: 'inherit',
    });
  console.log('building the benchmark page into dist-bench/ ...');
  vite(['--config', 'bench/vite.config.ts']);
  if (opts.app && existsSync(join(ROOT, 'bench/app.mjs'))) {
    console.log('building the app into dist-bench-app/ (for bench/app.mjs) ...');
    vite(['--outDir', 'dist-bench-app']);
  }
}

const CHROMIUM = CHROMIUM_EXECUTABLE;
const BASE_ARGS = CHROMIUM_BASE_ARGS;

async function runPage(browser, url, label) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.text().startsWith('[bench')) console.log(`  ${m.text()}`);
  });
  page.on('pageerror', (e) => console.log(`  [${label} page error] ${e.message}`));
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.benchResult || window.benchFailed, null, {
      timeout: PAGE_TIMEOUT_MS,
      polling: 500,
    });
    const { result, failed } = await page.evaluate(() => ({
      result: window.benchResult ?? null,
      failed: window.benchFailed ?? null,
    }));
    return result ?? { backend: label, failed };
  } catch (err) {
    return { backend: label, failed: err.message.split('\n')[0] };
  } finally {
    await context.close();
  }
}

/**
 * --pause: other jobs on the machine (e.g. model trainings) stopped while a page is measured.
 * `during(fn)` stops them, runs fn, and continues them whatever happens; they are also continued
 * if this process exits or is interrupted.
 */
function pauser(pattern) {
  const record = { pattern, pausedSeconds: 0, windows: 0, processes: [] };
  if (!pattern) return { record: null, during: (fn) => fn() };
  const signal = (sig) => spawnSync('pkill', [`-${sig}`, '-f', pattern]);
  const resume = () => signal('CONT');
  process.on('exit', resume);
  for (const s of ['SIGINT', 'SIGTERM']) {
    process.on(s, () => {
      resume();
      process.exit(130);
    });
  }
  const list = spawnSync('pgrep', ['-af', pattern], { encoding: 'utf8' }).stdout ?? '';
  record.processes = list
    .split('\n')
    .filter((l) => l && !l.includes('bench/run.mjs'))
    .map((l) => l.slice(0, 160));
  return {
    record,
    async during(fn) {
      const t0 = Date.now();
      signal('STOP');
      try {
        return await fn();
      } finally {
        resume();
        record.pausedSeconds += (Date.now() - t0) / 1000;
        record.windows += 1;
      }
    },
  };
}

/**
 * Our speed-up from 1 thread to the most, per cell, from the wasm pages (different page loads:
 * not alternated, unlike ours/ORT within a page), and the same for onnxruntime-web.
 */
function threadScaling(pages) {
  const wasm = pages.filter((p) => p.backend === 'wasm' && !p.failed && p.cells?.length);
  const one = wasm.find((p) => p.ours?.wasmThreads === 1);
  const most = wasm.reduce((a, p) => (!a || p.threads > a.threads ? p : a), null);
  if (!one || !most || most === one) return null;
  const ms = (page, cell, who) =>
    page.cells.find((c) => c.images === cell.images && c.cfg === cell.cfg)?.[who]?.msPerCall;
  return {
    from: { threads: 1, oursWasmThreads: one.ours.wasmThreads, theirsThreads: one.theirs?.threads },
    to: {
      threads: most.threads,
      oursWasmThreads: most.ours.wasmThreads,
      theirsThreads: most.theirs?.threads,
    },
    cells: one.cells.map((c) => {
      const speedup = (who) => {
        const a = ms(one, c, who);
        const b = ms(most, c, who);
        return a && b ? a / b : null;
      };
      const fromOursAtOne = (who) => {
        const a = ms(one, c, 'ours');
        const b = ms(most, c, who);
        return a && b ? a / b : null;
      };
      return {
        images: c.images,
        cfg: c.cfg,
        modelBatch: c.modelBatch,
        ours: speedup('ours'),
        theirs: speedup('theirs'),
        // ours in an engine worker (threads, split, or the app's hybrid), against ours on the
        // page with one thread.
        oursWorker: fromOursAtOne('oursWorker'),
        oursSplit: fromOursAtOne('oursSplit'),
        oursHybrid: fromOursAtOne('oursHybrid'),
      };
    }),
  };
}

/** wasm's first frames and longest main-thread task, isolated against not (bench/app.mjs). */
function printFirstFrames(variants) {
  const rows = [];
  for (const v of variants) {
    if (!existsSync(join(ROOT, v.out))) continue;
    const results = JSON.parse(readFileSync(join(ROOT, v.out), 'utf8')).results ?? [];
    for (const flags of results) {
      for (const b of flags.backends ?? []) {
        if (b.backend !== 'wasm') continue;
        rows.push(
          `${v.label}: ${b.engine?.text ?? '?'}; first frame cold ${b.cold?.firstFrameMs} ms, ` +
            `warm ${b.warm?.firstFrameMs} ms from about:blank; arriving from another site, ` +
            `medians of ${b.repeatedLoads?.cold.length ?? 0}: cold ` +
            `${b.repeatedLoads?.coldMedianMs} ms, warm ${b.repeatedLoads?.warmMedianMs} ms; ` +
            `batch-16 run ${b.run?.wallMs} ms, longest ` +
            `main-thread task ${b.run?.longestTaskMs} ms (long-task observer), ` +
            `${b.run?.longestTaskWallMsInTrace} ms wall / ${b.run?.longestTaskCpuMs} ms CPU (trace)`,
        );
      }
    }
  }
  if (rows.length) console.log(`\n### wasm in the app, isolated or not\n${rows.join('\n')}`);
}

function machine(browserVersion) {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadAverage: loadavg().map((x) => Number(x.toFixed(2))),
    chromium: browserVersion,
    node: process.version,
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const loadBefore = loadavg().map((x) => Number(x.toFixed(2)));
  ensureOnnx();
  if (opts.build) build(opts);
  if (!existsSync(join(ROOT, 'dist-bench/index.html'))) throw new Error('dist-bench/ is not built');

  const server = await serveStatic(join(ROOT, 'dist-bench'), opts.port, {
    isolated: opts.isolation,
  });
  const pause = pauser(opts.pause);
  const query = (backend, threads) =>
    `http://127.0.0.1:${opts.port}/?backend=${backend}&threads=${threads}` +
    `&batches=${opts.batches}&rounds=${opts.rounds}&roundMs=${opts.roundMs}`;
  // One page per wasm thread setting; the GPU backends once (their wasm peer does not matter).
  const runs = (backend) => (backend === 'wasm' ? opts.threads : [1]);
  // WebGPU needs the flag in headless Chromium (a SwiftShader adapter here); the others run with
  // the default flags, as the app's users have them.
  const launches = [
    { flags: 'default', args: BASE_ARGS, backends: opts.backends.filter((b) => b !== 'webgpu') },
    {
      flags: '--enable-unsafe-webgpu',
      args: [...BASE_ARGS, '--enable-unsafe-webgpu'],
      backends: opts.backends.filter((b) => b === 'webgpu'),
    },
  ];
  const pages = [];
  let browserVersion = 'unknown';
  try {
    for (const launch of launches) {
      if (!launch.backends.length) continue;
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: launch.args });
      browserVersion = browser.version();
      try {
        for (const backend of launch.backends) {
          for (const threads of runs(backend)) {
            const label = backend === 'wasm' ? `wasm, ${threads} thread(s)` : backend;
            console.log(`\n== ${label} (chromium ${launch.flags}) ==`);
            const result = await pause.during(() =>
              runPage(browser, query(backend, threads), label),
            );
            pages.push({ ...result, chromiumFlags: launch.flags });
          }
        }
      } finally {
        await browser.close();
      }
    }
  } finally {
    server.close();
  }

  let nodeCpu = null;
  if (opts.node) {
    console.log('\n== Node, CPU time (bench/node-cpu.ts) ==');
    const out = join(ROOT, 'node_modules/.cache/bench-node-cpu.json');
    const r = await pause.during(() =>
      spawnSync(
        process.execPath,
        ['scripts/run.mjs', 'bench/node-cpu.ts', '--batches', opts.batches, '--out', out],
        { cwd: ROOT, stdio: 'inherit' },
      ),
    );
    nodeCpu =
      r.status === 0
        ? JSON.parse(readFileSync(out, 'utf8'))
        : { failed: `exit status ${r.status}` };
  }

  const results = {
    date: new Date().toISOString(),
    command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { ...machine(browserVersion), loadAverageBefore: loadBefore },
    options: opts,
    /** Processes stopped while each page was measured (--pause), or null. */
    paused: pause.record,
    pages,
    threadScaling: threadScaling(pages),
    nodeCpu,
    seconds: (Date.now() - started) / 1000,
  };
  // Formatted as Prettier would: `npm run lint` checks every JSON file in the tree.
  const json = await prettier.format(JSON.stringify(results), { parser: 'json' });
  writeFileSync(join(ROOT, 'bench/results-model.json'), json);
  printReport(results);
  console.log('\nwrote bench/results-model.json');

  if (opts.app && existsSync(join(ROOT, 'bench/app.mjs'))) {
    // Twice: as served (cross-origin isolated, every core) and without the headers (one thread),
    // so that first frames and main-thread tasks compare, isolated or not.
    const variants = [
      { label: 'cross-origin isolated', out: 'bench/results-app.json', env: {} },
      {
        label: 'not isolated',
        out: 'bench/results-app-not-isolated.json',
        env: { BENCH_APP_ISOLATION: 'off' },
      },
    ];
    for (const v of variants) {
      console.log(`\n== app-level benchmark (bench/app.mjs), ${v.label} ==`);
      const r = await pause.during(() =>
        spawnSync(process.execPath, ['bench/app.mjs'], {
          cwd: ROOT,
          stdio: 'inherit',
          // Its own server on the next port: ours is closed by now, but another may hold 4173.
          env: {
            ...process.env,
            ...v.env,
            BENCH_APP_DIST: 'dist-bench-app',
            BENCH_APP_OUT: v.out,
            BENCH_APP_LOAD_REPEATS: '5',
            BENCH_PORT: String(opts.port + 1),
          },
        }),
      );
      if (r.status !== 0) console.log(`bench/app.mjs exited with ${r.status}`);
    }
    printFirstFrames(variants);
  }
  const m = machine(browserVersion);
  console.log(
    `\nmachine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB; load average ` +
      `${loadBefore.join(' ')} (start) -> ${m.loadAverage.join(' ')} (end); chromium ` +
      `${m.chromium}; node ${m.node}; ${((Date.now() - started) / 1000).toFixed(0)} s in all`,
  );
  if (pages.some((p) => p.failed)) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err.message ?? err);
  process.exit(1);
});
