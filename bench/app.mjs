// App-level benchmark: drives the BUILT app (vite build output, served by `vite preview`) in
// Chromium through Playwright and measures, per browser flag set and per backend reachable with
// `?backend=`: time to the first x_t frame on a cold and a warm load, a whole 20-step DPM++ 2M run
// of 16 images with guidance, per-step model vs whole-step time, the longest main-thread task
// during that run, worker tensors before/after 500 steps, and bytes downloaded (app vs weights).
//
//   node bench/app.mjs            (expects a build in $BENCH_DIST, default dist/; builds nothing)
//
// Per backend: a fresh browser context (empty HTTP cache) loads the app with a batch-1 DDPM run
// started as soon as Generate is enabled (cold: time to its first frame); a second page in the
// same context does the same (warm), and its run goes on as the first of five 100-step runs (the
// tensor check, 500 steps); then the same page runs DPM++ 2M, 20 steps, batch 16, guidance 3.
// A backend whose batch-1 step says that run would pass the cap is not given it (reported).
//
// Env: BENCH_DIST (dist), BENCH_PORT (4173), CHROMIUM_PATH, BENCH_RUN_CAP_S (cap on the batch-16
// run, 120), BENCH_LEAK_CAP_S (cap on the 500-step tensor check, 90), BENCH_BACKENDS (a comma
// list to measure only those), BENCH_APP_QUERY (added to every page URL, e.g. threads=1 or
// wasmMode=threads), BENCH_APP_OUT (the results file, default bench/results-app.json),
// BENCH_APP_LOAD_REPEATS (N more cold and warm first frames on wasm, for medians),
// BENCH_APP_ISOLATION=off (serve without COOP/COEP and block service workers: the page is not
// cross-origin isolated, and wasm runs one thread, as on a host that sends no headers).
// Prints a table, writes the results file. Exits non-zero only
// when the harness itself fails (no build, port taken, server or browser does not start); what
// the app does (a backend it cannot run, an error it shows) is reported as a result.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { CHROMIUM_BASE_ARGS, CHROMIUM_EXECUTABLE } from './chromium.mjs';
import { request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { chromium } from '@playwright/test';
import prettier from 'prettier';

// BENCH_APP_DIST: the name bench/run.mjs passes.
const DIST = process.env.BENCH_DIST ?? process.env.BENCH_APP_DIST ?? 'dist';
const PORT = Number(process.env.BENCH_PORT ?? 4173);
const ORIGIN = `http://127.0.0.1:${PORT}`;
const RUN_CAP_MS = 1000 * Number(process.env.BENCH_RUN_CAP_S ?? 120);
const LEAK_CAP_MS = 1000 * Number(process.env.BENCH_LEAK_CAP_S ?? 90);
const SLOW_LEAK_CAP_MS = 20_000;
const SLOW_STEP_MS = 1000;
const FIRST_STEP_CAP_MS = 30_000;
const OUT = process.env.BENCH_APP_OUT ?? 'bench/results-app.json';
const EXTRA_QUERY = process.env.BENCH_APP_QUERY ? `&${process.env.BENCH_APP_QUERY}` : '';
const ISOLATED = process.env.BENCH_APP_ISOLATION !== 'off';
/** BENCH_APP_LOAD_REPEATS=N: N more cold + warm loads on wasm, each in a fresh context (medians). */
const LOAD_REPEATS = Number(process.env.BENCH_APP_LOAD_REPEATS ?? 0);
/** BENCH_BACKENDS=wasm,webgpu measures only those (for quick checks of the harness). */
const ONLY = process.env.BENCH_BACKENDS?.split(',').map((b) => b.trim());
const EXECUTABLE = CHROMIUM_EXECUTABLE;
const BASE_ARGS = CHROMIUM_BASE_ARGS;
// wasm and webgl do not depend on --enable-unsafe-webgpu, so the flagged browser measures only
// the backend the flag can make reachable (keeps the whole bench within a few minutes).
const FLAG_SETS = [
  { name: 'default flags', args: BASE_ARGS, backends: ['wasm', 'webgl', 'webgpu'] },
  {
    name: '--enable-unsafe-webgpu',
    args: [...BASE_ARGS, '--enable-unsafe-webgpu'],
    backends: ['webgpu'],
  },
];
const LEAK_STEPS_PER_RUN = 100; // the app allows at most 200 steps a run
const LEAK_RUNS = 5;
const LEAK_QUERY = `batch=1&steps=${LEAK_STEPS_PER_RUN}&sampler=DDPM&guidance=3&seed=1`;

/** Harness failures (as opposed to what the app does, which is reported as a result). */
class HarnessError extends Error {}

// ---------------------------------------------------------------------------------------------
// Preview server

async function startServer() {
  if (!existsSync(resolve(DIST, 'index.html'))) {
    throw new HarnessError(
      `${DIST}/index.html not found: build first (npx vite build --outDir ${DIST})`,
    );
  }
  const busy = await fetch(ORIGIN).then(
    () => true,
    () => false,
  );
  if (busy) throw new HarnessError(`port ${PORT} is already in use: set BENCH_PORT to a free one`);
  const vite = resolve('node_modules/vite/bin/vite.js');
  const args = ['preview', '--host', '127.0.0.1', '--port', String(PORT), '--strictPort'];
  const child = spawn(process.execPath, [vite, ...args, '--outDir', DIST], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // vite.config.ts leaves out COOP/COEP with this.
    env: { ...process.env, ...(ISOLATED ? {} : { PLAYGROUND_ISOLATION: 'off' }) },
  });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new HarnessError(`vite preview exited: ${log.trim()}`);
    try {
      if ((await fetch(ORIGIN)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill();
  throw new HarnessError(`vite preview did not answer on ${ORIGIN} within 30 s: ${log.trim()}`);
}

// ---------------------------------------------------------------------------------------------
// In-page recorder, installed before any page script runs (so the long-task observer exists
// before Generate). With `#bench=autostart` in the URL it presses Generate the moment it is
// enabled, so load-to-first-frame does not include the harness's own click latency.

function pageRecorder() {
  const bench = {
    t: {},
    longTasks: [],
    readouts: [],
    /** Run status changes ([ms, status]) and Generate clicks (ms), page clock. */
    statuses: [],
    clicks: [],
  };
  window.__bench = bench;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) bench.longTasks.push({ start: e.startTime, ms: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  // autostart: press Generate once it is enabled; autostart-paused: and Pause as soon as the run
  // is on, so the start frame comes without queuing model work that would slow the next load.
  const mode = new URLSearchParams(location.hash.slice(1)).get('bench');
  const autostart = mode === 'autostart' || mode === 'autostart-paused';
  let pausePressed = false;
  // The run's Generate button, not the view tab of the same name (role="tab").
  const isGenerateButton = (b) =>
    b?.textContent.trim() === 'Generate' && b.getAttribute('role') !== 'tab';
  const isGenerate = (el) => isGenerateButton(el?.closest?.('button'));
  document.addEventListener(
    'click',
    (e) => {
      if (isGenerate(e.target)) bench.clicks.push(performance.now());
    },
    true,
  );
  const mark = (key) => {
    if (bench.t[key] === undefined) bench.t[key] = performance.now();
  };
  let lastReadout = '';
  // Mutations of the whole document, but only a few querySelector calls each: well under 1 ms.
  const watch = () => {
    const engine = document.querySelector('[data-testid="backend-name"]');
    if (engine?.dataset.state === 'ready') mark('engineReady');
    const generate = [...document.querySelectorAll('button')].find(isGenerateButton);
    if (generate && !generate.disabled && bench.t.generateEnabled === undefined) {
      mark('generateEnabled');
      if (autostart) generate.click();
    }
    if (mode === 'autostart-paused' && !pausePressed && bench.t.generateEnabled !== undefined) {
      const pause = [...document.querySelectorAll('button')].find(
        (b) => b.textContent.trim() === 'Pause',
      );
      if (pause && !pause.disabled) {
        pausePressed = true;
        pause.click();
      }
    }
    const xt = document.querySelector('canvas[aria-label="Noisy sample x_t"]');
    if (xt?.dataset.empty === 'false') mark('firstFrame');
    const status = document.querySelector('[data-testid="run-status"]')?.dataset.status;
    if (status && status !== bench.statuses.at(-1)?.[1]) {
      bench.statuses.push([performance.now(), status]);
    }
    const r = document.querySelector('[data-testid="step-readout"]');
    if (r && r.dataset.index !== '' && r.dataset.index !== undefined) {
      const d = r.dataset;
      const key = `${d.index}|${d.step}|${d.cause}|${d.numTensors}`;
      if (key !== lastReadout) {
        lastReadout = key;
        bench.readouts.push({
          at: performance.now(),
          index: Number(d.index),
          step: Number(d.step),
          total: Number(d.total),
          cause: d.cause,
          numTensors: Number(d.numTensors),
          numBytes: d.numBytes === undefined || d.numBytes === '' ? null : Number(d.numBytes),
          timing: document.querySelector('[data-testid="timing"]')?.textContent ?? '',
        });
      }
    }
  };
  new MutationObserver(watch).observe(document, {
    subtree: true,
    childList: true,
    attributes: true,
  });
}

// ---------------------------------------------------------------------------------------------
// Network accounting (context-level events include the worker's fetches)

function classify(url) {
  const path = new URL(url).pathname;
  if (path.endsWith('/weights.bin')) return 'weights';
  if (path.includes('/models/')) return 'modelJson';
  if (path.endsWith('.js') || path.endsWith('.mjs')) return 'js';
  if (path.endsWith('.css')) return 'css';
  if (path.endsWith('.wasm')) return 'wasm';
  if (path === '/' || path.endsWith('.html')) return 'html';
  return 'other';
}

/**
 * Bytes the server sends for `path` with this Accept-Encoding, counted before decoding. Used where
 * Chromium reports no size (a dedicated worker's own script).
 */
function servedBytes(path, acceptEncoding) {
  return new Promise((done) => {
    const req = request(`${ORIGIN}${path}`, { headers: { 'accept-encoding': acceptEncoding } });
    req.on('response', (res) => {
      let n = 0;
      res.on('data', (chunk) => (n += chunk.length));
      res.on('end', () => done(n));
    });
    req.on('error', () => done(0));
    req.end();
  });
}

function networkLog(context) {
  const entries = [];
  const pending = [];
  let phase = 'cold';
  const onDone = (request, failed) => {
    if (!request.url().startsWith('http')) return;
    const at = phase;
    pending.push(
      (async () => {
        const url = new URL(request.url());
        const headers = await request.allHeaders();
        // The server sends `Cache-Control: no-cache` with an ETag: a cached file is revalidated
        // with If-None-Match and comes back as a 304 without a body.
        const revalidated = Boolean(headers['if-none-match'] || headers['if-modified-since']);
        const response = failed ? null : await request.response();
        const sizes = failed ? null : await request.sizes().catch(() => null);
        let bodyBytes = Math.max(0, sizes?.responseBodySize ?? 0);
        let sizeFrom = 'chromium';
        if (!failed && !revalidated && bodyBytes === 0 && response?.status() === 200) {
          bodyBytes = await servedBytes(
            url.pathname + url.search,
            headers['accept-encoding'] ?? '',
          );
          sizeFrom = 'served again from node';
        }
        entries.push({
          phase: at,
          kind: classify(request.url()),
          path: url.pathname,
          status: response?.status() ?? 0,
          revalidated,
          bodyBytes,
          sizeFrom,
          headerBytes: Math.max(0, sizes?.responseHeadersSize ?? 0),
          failed: failed ? (request.failure()?.errorText ?? 'failed') : null,
        });
      })(),
    );
  };
  context.on('requestfinished', (r) => onDone(r, false));
  context.on('requestfailed', (r) => onDone(r, true));
  return {
    setPhase: (p) => (phase = p),
    async summary(p) {
      await Promise.all(pending);
      const mine = entries.filter((e) => e.phase === p);
      const bytes = {};
      for (const e of mine) bytes[e.kind] = (bytes[e.kind] ?? 0) + e.bodyBytes;
      const app = ['html', 'js', 'css', 'wasm', 'other'].reduce((s, k) => s + (bytes[k] ?? 0), 0);
      const weights = mine.filter((e) => e.kind === 'weights');
      return {
        requests: mine.length,
        appBytes: app,
        weightsBytes: bytes.weights ?? 0,
        modelJsonBytes: bytes.modelJson ?? 0,
        headerBytes: mine.reduce((s, e) => s + e.headerBytes, 0),
        revalidated: mine.filter((e) => e.revalidated).length,
        byKind: bytes,
        weightsResponses: weights.map(
          (e) => `${e.path} ${e.revalidated ? 'revalidated, ' : ''}${e.bodyBytes} B`,
        ),
        sizedByRefetch: mine.filter((e) => e.sizeFrom !== 'chromium').map((e) => e.path),
        statuses: countBy(mine.map((e) => String(e.status))),
        failed: mine.filter((e) => e.failed).map((e) => `${e.path}: ${e.failed}`),
      };
    },
  };
}

const countBy = (xs) => xs.reduce((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});

// ---------------------------------------------------------------------------------------------
// Page helpers

const recorder = (page) => page.evaluate(() => window.__bench);

async function waitFor(page, predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rec = await recorder(page);
    if (predicate(rec)) return rec;
    const alerts = await page.getByRole('alert').allTextContents();
    const failed = alerts.find((a) => /Error while|could not|stopped/i.test(a));
    if (failed) throw new Error(`${what}: the app says "${failed.replace(/×$/, '')}"`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await page.waitForTimeout(100);
  }
}

async function engineInfo(page) {
  const el = page.getByTestId('backend-name');
  return {
    backend: await el.getAttribute('data-backend'),
    adapter: await el.getAttribute('data-adapter'),
    text: (await el.textContent())?.trim() ?? '',
    failures: await page
      .locator('section[aria-label="Engine status"] details li')
      .allTextContents(),
  };
}

/**
 * Opens a new page of `context` on `query` with autostart; resolves at the first x_t frame.
 * `fromOtherSite`: the new page first shows a page of another site (the same server as
 * `localhost`), as when a user follows a link. Without it the app's navigation starts from
 * Playwright's about:blank, whose renderer process Chromium reuses for a page without COOP but
 * must replace for a cross-origin isolated one (a new browsing context group): measured here,
 * that alone made isolated first frames ~60-90 ms later, a cost a user arriving from another
 * site pays either way.
 */
async function loadToFirstFrame(
  context,
  backend,
  query,
  errors,
  mode = 'autostart',
  fromOtherSite = false,
) {
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  if (fromOtherSite) await page.goto(`http://localhost:${PORT}/models/index.json`);
  // The mode rides in the hash: it is not part of the URL the HTTP cache keys on.
  await page.goto(`${ORIGIN}/?backend=${backend}&${query}${EXTRA_QUERY}#bench=${mode}`);
  const rec = await waitFor(page, (r) => r.t.firstFrame !== undefined, 120_000, 'first frame');
  return { page, t: rec.t };
}

/**
 * Cancels the page's run and waits (at most `ms`) until the worker has taken it in (it does so
 * between steps), so a step still queued on the GPU does not slow the next measurement.
 */
async function stopRun(page, ms = 15_000) {
  const cancel = page.getByRole('button', { name: 'Cancel' });
  if (await cancel.isEnabled()) await cancel.click();
  await page
    .locator('[data-testid="run-status"]:not([data-status="running"]):not([data-status="paused"])')
    .waitFor({ timeout: ms })
    .catch(() => undefined);
}

const timing = (text) => {
  const m = /model ([\d.]+) ms · whole step ([\d.]+) ms/.exec(text);
  return m ? { modelMs: Number(m[1]), totalMs: Number(m[2]) } : null;
};
const median = (xs) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x, d = 1) =>
  x === null || x === undefined || !Number.isFinite(x) ? null : Number(x.toFixed(d));

/**
 * Main-thread tasks of a Chromium trace as [wall ms, CPU ms] (as tests/e2e/playground.spec.ts):
 * on a loaded machine a task waits for a core far longer than it works, and the CPU time is what
 * the page itself costs.
 */
function mainThreadTasks(trace) {
  const parsed = JSON.parse(trace.toString());
  const events = Array.isArray(parsed) ? parsed : parsed.traceEvents;
  const main = new Set(
    events
      .filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
      .map((e) => `${e.pid}:${e.tid}`),
  );
  return events
    .filter((e) => e.name === 'RunTask' && e.ph === 'X' && main.has(`${e.pid}:${e.tid}`))
    .map((e) => [(e.dur ?? 0) / 1000, (e.tdur ?? 0) / 1000]);
}

/**
 * The whole batch-16 run on an open page (model loaded, no run going): Generate, wait for done or
 * the cap, then per-step model/whole-step times from the step readout, and main-thread tasks.
 */
async function measureRun(browser, page, capMs) {
  await page.getByRole('combobox', { name: 'Batch size' }).selectOption('16');
  await page.getByRole('combobox', { name: 'Sampler' }).selectOption('DPM++ 2M');
  const steps = page.getByRole('spinbutton', { name: 'Steps', exact: true });
  await steps.fill('20');
  await steps.press('Enter');
  await page
    .locator('[data-testid="plan-summary"]')
    .filter({ hasText: 'DPMSolverMultistep' })
    .waitFor();
  await browser.startTracing(page, {
    categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'],
  });
  await page.getByRole('button', { name: 'Generate' }).click();
  const click = (await recorder(page)).clicks.at(-1);
  const doneAfterClick = (r) => r.statuses.find(([at, st]) => at > click && st === 'done');
  let end = null;
  let failure = null;
  const stepped = (r) => r.readouts.some((x) => x.at > click && x.cause !== 'start');
  try {
    // A backend that cannot finish one step in FIRST_STEP_CAP_MS would not finish the run either.
    await waitFor(page, (r) => stepped(r) || !!doneAfterClick(r), FIRST_STEP_CAP_MS, 'first step');
    end = doneAfterClick(await waitFor(page, (r) => !!doneAfterClick(r), capMs, 'batch-16 run'))[0];
  } catch (err) {
    failure = err;
  }
  // The trace is stopped whatever happened (a second startTracing would fail).
  const tasks = mainThreadTasks(await browser.stopTracing());
  if (failure && !/not within/.test(failure.message)) throw failure;
  return summariseRun(page, { click, end, capped: end === null, capMs, tasks });
}

async function summariseRun(page, { click, end, capped, capMs, tasks }) {
  const rec = await recorder(page);
  const last = end ?? (await page.evaluate(() => performance.now()));
  const steps = new Map();
  for (const r of rec.readouts) {
    const t = timing(r.timing);
    if (r.at >= click && t && (r.cause === 'run' || r.cause === 'final')) steps.set(r.index, t);
  }
  const model = [...steps.values()].map((x) => x.modelMs);
  const total = [...steps.values()].map((x) => x.totalMs);
  const during = rec.longTasks.filter((l) => l.start >= click && l.start <= last);
  const stepsDone = Math.max(0, ...rec.readouts.filter((r) => r.at >= click).map((r) => r.step));
  return {
    finished: !capped,
    note: capped
      ? `cancelled after ${stepsDone} of 20 steps (caps: ${FIRST_STEP_CAP_MS / 1000} s for the ` +
        `first step, ${capMs / 1000} s for the run)`
      : null,
    stepsDone,
    wallMs: round(last - click, 0),
    stepsTimed: steps.size,
    modelMsMedian: round(median(model)),
    totalMsMedian: round(median(total)),
    modelMsFirst: model[0] ?? null,
    totalMsFirst: total[0] ?? null,
    modelShare: round(model.reduce((x, y) => x + y, 0) / total.reduce((x, y) => x + y, 0), 3),
    longestTaskMs: round(Math.max(0, ...during.map((l) => l.ms)), 0),
    longTasks: during.map((l) => round(l.ms, 0)),
    mainThreadTasks: tasks.length,
    longestTaskCpuMs: round(Math.max(0, ...tasks.map(([, cpu]) => cpu))),
    longestTaskWallMsInTrace: round(Math.max(0, ...tasks.map(([wall]) => wall))),
    loadAverage: round(loadavg()[0], 2),
  };
}

/** Model and whole-step times of the steps in these readouts (cause run/final), in order. */
const stepTimes = (readouts) =>
  readouts
    .filter((r) => r.cause === 'run' || r.cause === 'final')
    .map((r) => timing(r.timing))
    .filter(Boolean);

/** Median whole-step time after the first step (which includes compiling kernels/shaders). */
const medianStepMs = (readouts) => {
  const times = stepTimes(readouts);
  return median((times.length > 1 ? times.slice(1) : times).map((t) => t.totalMs));
};

/**
 * Worker tensors (count and bytes) before and after 500 steps: LEAK_RUNS runs of
 * LEAK_STEPS_PER_RUN DDPM steps at batch 1, the first one already started by autostart on
 * `page`, each to its final frame. At the cap (or, on a backend slower than SLOW_STEP_MS a step,
 * after SLOW_LEAK_CAP_MS) the run is paused and the check reports how far it got.
 */
async function measureTensors(page, capMs) {
  const started = Date.now();
  const readout = page.getByTestId('step-readout');
  const snap = async () => ({
    step: Number(await readout.getAttribute('data-step')),
    numTensors: Number(await readout.getAttribute('data-num-tensors')),
    numBytes: Number(await readout.getAttribute('data-num-bytes')),
  });
  const start = (await recorder(page)).readouts[0];
  const finals = [];
  let steps = 0;
  let note = null;
  const finalsSeen = (r) => r.readouts.filter((x) => x.cause === 'final').length;
  // A slow backend gets SLOW_LEAK_CAP_MS, but at least 3 steps: its first step compiles shaders.
  const tooSlow = (r) =>
    Date.now() - started > SLOW_LEAK_CAP_MS &&
    stepTimes(r.readouts).length >= 3 &&
    medianStepMs(r.readouts) > SLOW_STEP_MS;
  for (let run = 0; run < LEAK_RUNS; run++) {
    if (run > 0) await page.getByRole('button', { name: 'Generate' }).click();
    const left = Math.max(1, capMs - (Date.now() - started));
    const rec = await waitFor(
      page,
      (r) => finalsSeen(r) > run || tooSlow(r),
      left,
      'tensor check',
    ).catch((err) => {
      if (!/not within/.test(err.message)) throw err;
      return null;
    });
    if (!rec || finalsSeen(rec) <= run) {
      await page.getByRole('button', { name: 'Pause' }).click();
      await page.locator('[data-testid="run-status"][data-status="paused"]').waitFor();
      const at = await snap();
      steps += at.step;
      const why = rec ? `steps slower than ${SLOW_STEP_MS} ms` : 'the cap';
      note = `paused after ${steps} of ${LEAK_RUNS * LEAK_STEPS_PER_RUN} steps (${Math.round((Date.now() - started) / 1000)} s, ${why})`;
      finals.push(at);
      break;
    }
    const at = await snap();
    steps += at.step;
    finals.push(at);
  }
  const readouts = (await recorder(page)).readouts;
  await stopRun(page);
  return {
    steps,
    note,
    // Model and whole-step times at batch 1 with guidance (2 images per model call), DDPM: the
    // first step, and the median of the others.
    batch1FirstStep: stepTimes(readouts)[0] ?? null,
    batch1ModelMsMedian: round(
      median(
        stepTimes(readouts)
          .slice(1)
          .map((t) => t.modelMs),
      ),
    ),
    batch1TotalMsMedian: round(medianStepMs(readouts)),
    atStart: { numTensors: start.numTensors, numBytes: start.numBytes },
    afterFirstRun: finals[0] ?? null,
    afterAll: finals.at(-1) ?? null,
    perRun: finals.map((f) => [f.step, f.numTensors, f.numBytes]),
  };
}

/** Runs one measurement; an app failure becomes `{ error }` so the others still run. */
async function attempt(what, fn) {
  try {
    return await fn();
  } catch (err) {
    return { error: `${what}: ${err.message.split('\n')[0]}` };
  }
}

// ---------------------------------------------------------------------------------------------
// One backend in one browser: a fresh context (empty HTTP cache), cold load, warm load (a new
// page in the same context), the batch-16 run on the warm page, then the tensor check.

async function benchBackend(browser, backend) {
  const began = Date.now();
  // Not isolated: no service worker either (public/coi-serviceworker.js would isolate the page).
  const context = await browser.newContext(ISOLATED ? {} : { serviceWorkers: 'block' });
  await context.addInitScript(pageRecorder);
  const net = networkLog(context);
  const errors = [];
  const loads = (t) => ({
    engineReadyMs: round(t.engineReady, 0),
    modelReadyMs: round(t.generateEnabled, 0),
    firstFrameMs: round(t.firstFrame, 0),
  });
  try {
    const cold = await loadToFirstFrame(context, backend, LEAK_QUERY, errors, 'autostart-paused');
    const engine = await engineInfo(cold.page);
    await stopRun(cold.page);
    const coldNet = await net.summary('cold');
    await cold.page.close();
    if (engine.backend !== backend) {
      const failures = engine.failures.length ? ` [${engine.failures.join('; ')}]` : '';
      return {
        backend,
        skipped:
          `the app runs ${engine.backend || 'nothing'} instead: ${engine.text}${failures}; ` +
          `WebGPU adapter: ${engine.adapter}`,
        engine,
        cold: loads(cold.t),
        network: { cold: coldNet },
        seconds: round((Date.now() - began) / 1000, 0),
      };
    }
    net.setPhase('warm');
    const warm = await loadToFirstFrame(context, backend, LEAK_QUERY, errors);
    const warmNet = await net.summary('warm');
    net.setPhase('run');
    // The warm load's run is the first of the tensor check's runs.
    const tensors = await attempt('tensor check', () => measureTensors(warm.page, LEAK_CAP_MS));
    // 20 steps of 16 images with guidance: at least 16 batch-1 steps' work each (less on wasm).
    const estimateMs = 20 * 16 * (tensors.batch1TotalMsMedian ?? 0);
    const run =
      estimateMs > RUN_CAP_MS
        ? {
            skipped:
              `a batch-1 step takes ${tensors.batch1TotalMsMedian} ms, so 20 steps of 16 ` +
              `images would take about ${Math.round(estimateMs / 60_000)} min (cap ${RUN_CAP_MS / 1000} s)`,
          }
        : await attempt('batch-16 run', () => measureRun(browser, warm.page, RUN_CAP_MS));
    await stopRun(warm.page);
    await warm.page.close();
    return {
      backend,
      engine,
      cold: loads(cold.t),
      warm: loads(warm.t),
      repeatedLoads:
        backend === 'wasm' && LOAD_REPEATS > 0
          ? await repeatedLoads(browser, backend, LOAD_REPEATS, errors)
          : null,
      run,
      tensors,
      network: { cold: coldNet, warm: warmNet, afterLoads: await net.summary('run') },
      pageErrors: errors,
      seconds: round((Date.now() - began) / 1000, 0),
    };
  } catch (err) {
    return { backend, error: err.message.split('\n')[0], pageErrors: errors };
  } finally {
    await context.close();
  }
}

/**
 * First frames of `n` more cold + warm load pairs, each pair in a fresh context (empty HTTP
 * cache), each load arriving from another site (loadToFirstFrame): single loads vary by ~100 ms
 * on a loaded 2-core machine, medians less.
 */
async function repeatedLoads(browser, backend, n, errors) {
  const cold = [];
  const warm = [];
  for (let i = 0; i < n; i++) {
    const context = await browser.newContext(ISOLATED ? {} : { serviceWorkers: 'block' });
    await context.addInitScript(pageRecorder);
    try {
      for (const [list, mode] of [
        [cold, 'autostart-paused'],
        [warm, 'autostart-paused'],
      ]) {
        const load = await loadToFirstFrame(context, backend, LEAK_QUERY, errors, mode, true);
        list.push(round(load.t.firstFrame, 0));
        await stopRun(load.page);
        await load.page.close();
      }
    } finally {
      await context.close();
    }
  }
  return { cold, warm, coldMedianMs: median(cold), warmMedianMs: median(warm) };
}

// ---------------------------------------------------------------------------------------------
// Report

const kb = (b) => (b === null || b === undefined ? '-' : `${(b / 1024).toFixed(0)} kB`);

const cell = (x, unit = ' ms') => (x === null || x === undefined ? '-' : `${x}${unit}`);

function runCells(run) {
  if (run.error) return { 'b16 20-step run': `ERROR: ${run.error}` };
  if (run.skipped) return { 'b16 20-step run': `skipped: ${run.skipped}` };
  return {
    'b16 20-step run': `${(run.wallMs / 1000).toFixed(1)} s${run.finished ? '' : ` (capped, ${run.stepsDone} steps)`}`,
    'step model/total (median)': `${cell(run.modelMsMedian, '')}/${cell(run.totalMsMedian)}`,
    'longest task wall/CPU': `${run.longestTaskMs || '<50'}/${cell(run.longestTaskCpuMs)}`,
  };
}

function tensorCells(t) {
  if (t.error) return { tensors: `ERROR: ${t.error}` };
  return {
    [`tensors (count, bytes)`]:
      `${t.atStart.numTensors}, ${kb(t.atStart.numBytes)} → after ${t.steps} steps ` +
      `${t.afterAll?.numTensors}, ${kb(t.afterAll?.numBytes)}`,
    'b1 step model/total (1st)':
      `${cell(t.batch1ModelMsMedian, '')}/${cell(t.batch1TotalMsMedian)} ` +
      `(${t.batch1FirstStep?.modelMs}/${t.batch1FirstStep?.totalMs})`,
  };
}

function rowOf(r) {
  if (r.skipped || r.error) {
    return {
      backend: r.backend,
      result: r.skipped ? `skipped: ${r.skipped}` : `ERROR: ${r.error}`,
    };
  }
  const n = r.network;
  return {
    backend: r.engine.backend,
    adapter: r.engine.adapter,
    'first frame cold/warm': `${r.cold.firstFrameMs}/${r.warm.firstFrameMs} ms`,
    ...runCells(r.run),
    ...tensorCells(r.tensors),
    'cold app/weights': `${kb(n.cold.appBytes)}/${kb(n.cold.weightsBytes)}`,
    'warm app/weights': `${kb(n.warm.appBytes)}/${kb(n.warm.weightsBytes)} (${n.warm.revalidated} revalidated)`,
  };
}

async function main() {
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg().map((x) => round(x, 2));
  const server = await startServer();
  const results = [];
  try {
    for (const set of FLAG_SETS) {
      let browser;
      try {
        browser = await chromium.launch({ executablePath: EXECUTABLE, args: set.args });
      } catch (err) {
        throw new HarnessError(`Chromium did not start (${set.name}): ${err.message}`);
      }
      const version = browser.version();
      const backends = [];
      for (const backend of set.backends.filter((b) => !ONLY || ONLY.includes(b))) {
        process.stderr.write(`[bench/app] ${set.name}: ${backend}...\n`);
        backends.push(await benchBackend(browser, backend));
      }
      await browser.close();
      results.push({ flags: set.name, args: set.args, chromium: version, backends });
      console.log(`\n${set.name} (Chromium ${version})`);
      console.table(backends.map(rowOf));
    }
  } finally {
    server.kill();
  }
  const warmWeights = results
    .flatMap((s) => s.backends)
    .filter((b) => b.network?.warm)
    .map((b) => b.network.warm.weightsBytes);
  const report = {
    startedAt,
    dist: DIST,
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, loadBefore, loadAfter: loadavg() },
    node: process.version,
    settings: {
      loads: LEAK_QUERY,
      run: 'batch 16, DPM++ 2M, 20 steps, guidance 3, seed 1',
      extraQuery: EXTRA_QUERY || null,
      crossOriginIsolated: ISOLATED,
      tensors: `${LEAK_RUNS} runs of ${LEAK_QUERY}`,
      capsMs: { run: RUN_CAP_MS, tensors: LEAK_CAP_MS, tensorsOnSlowBackends: SLOW_LEAK_CAP_MS },
    },
    weightsOnWarmLoad:
      warmWeights.length === 0
        ? 'not measured'
        : warmWeights.every((b) => b === 0)
          ? 'not downloaded again (HTTP cache; the server says no-cache, so each load revalidates with a conditional request)'
          : `DOWNLOADED AGAIN on warm loads (${warmWeights.join(', ')} bytes)`,
    results,
  };
  console.log(`\nWeights on warm loads: ${report.weightsOnWarmLoad}`);
  console.log(
    `Load average before ${loadBefore.join(' ')}, after ${report.machine.loadAfter.map((x) => x.toFixed(2)).join(' ')} (${cpus().length} cores)`,
  );
  const options = (await prettier.resolveConfig(OUT)) ?? {};
  writeFileSync(OUT, await prettier.format(JSON.stringify(report), { ...options, parser: 'json' }));
  console.log(`Wrote ${OUT}`);
}

main().catch((err) => {
  console.error(err instanceof HarnessError ? `bench/app: ${err.message}` : err);
  process.exit(1);
});
