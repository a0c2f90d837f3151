// Prints bench/results-model.json as plain-text tables.

const fixed = (x, digits = 2) => (x == null || Number.isNaN(x) ? '—' : x.toFixed(digits));
const pct = (x) => (x == null || Number.isNaN(x) ? '—' : `${(100 * x).toFixed(1)}%`);
const sci = (x) => (x == null ? '—' : x.toExponential(1));

function table(header, rows) {
  const all = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    line(all[0]),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...all.slice(1).map(line),
  ].join('\n');
}

function adapterText(adapter) {
  if (!adapter?.available) return `no WebGPU adapter (${adapter?.problem ?? 'unknown'})`;
  const name = [adapter.vendor, adapter.architecture, adapter.description]
    .filter(Boolean)
    .join(' / ');
  return `WebGPU adapter: ${name || 'unnamed'}${adapter.isFallback ? ' (software fallback)' : ''}`;
}

function backendHeader(p) {
  const title =
    p.backend?.startsWith('wasm') && p.threads ? `wasm, ${p.threads} thread(s)` : p.backend;
  const lines = [`### tfjs ${title} (chromium ${p.chromiumFlags})`];
  if (p.failed) return [...lines, `FAILED: ${p.failed}`].join('\n');
  lines.push(adapterText(p.ours?.adapter));
  if (p.ours?.wasmThreads != null) {
    const f = p.ours.wasmFeatures;
    lines.push(
      `tfjs wasm: ${p.ours.wasmThreads} thread(s) (${f?.build ?? 'build unknown'}` +
        `${f?.threadsProblem ? `: ${f.threadsProblem}` : ''}), SIMD ${f?.simd}, threads ` +
        `supported ${f?.threads}, fused kernels ${f?.fusedKernels ? 'on' : `off (${f?.fusedKernelsProblem})`}; ` +
        `page cross-origin isolated: ${p.crossOriginIsolated}`,
    );
  }
  lines.push(
    p.theirs
      ? `peer: onnxruntime-web ${p.theirs.version}, ${p.theirs.provider} EP, ${p.theirs.threads} thread(s)`
      : `peer: none (${p.theirsProblem})`,
  );
  lines.push(
    `parity fixture (tests/fixtures/parity-mnist.json, PyTorch) max |diff|: ours ${sci(p.parity.ours)}, ` +
      `ORT ${sci(p.parity.theirs)}; ours vs ORT ${sci(p.parity.oursVsTheirs)}`,
  );
  return lines.join('\n');
}

function modelTable(p) {
  const rows = p.cells.map((c) => [
    `${c.images}${c.cfg ? ' +CFG' : ''}`,
    c.modelBatch,
    c.skipped ? 'skipped' : fixed(c.ours?.callsPerSec),
    fixed(c.theirs?.callsPerSec),
    fixed(c.ratio),
    fixed(c.ratioBest),
    sci(c.maxAbsDiff),
    fixed(c.ours?.gflops),
    fixed(c.theirs?.gflops),
    pct(c.ours?.ofConvLimit),
    pct(c.theirs?.ofConvLimit),
  ]);
  return table(
    [
      'images',
      'batch',
      'ours evals/s',
      'ORT evals/s',
      'ours/ORT',
      '(best)',
      'max |diff|',
      'ours GFLOP/s',
      'ORT GFLOP/s',
      'ours % conv',
      'ORT % conv',
    ],
    rows,
  );
}

function workersTable(p) {
  const rows = p.cells
    .filter((c) => c.oursWorker && c.oursSplit)
    .map((c) => [
      `${c.images}${c.cfg ? ' +CFG' : ''}`,
      c.modelBatch,
      fixed(c.oursWorker.callsPerSec),
      fixed(c.oursSplit.callsPerSec),
      fixed(c.oursHybrid?.callsPerSec),
      fixed(c.splitVsThreads),
      fixed(c.hybridVsTheirs),
    ]);
  if (!rows.length) return null;
  const w = p.workers;
  return [
    `ours in an engine worker, as the app runs it (posting inputs and outputs included): ` +
      `XNNPACK's pool of ${w?.threaded.threadsPerWorker} threads (wasmMode=threads), the batch ` +
      `split over ${w?.split.workers} workers of 1 thread (wasmMode=split), and the default ` +
      `'hybrid' (the pool for one image, ${w?.hybrid?.workers ?? '?'} helpers of 1 thread for ` +
      'batches); app/ORT: hybrid against ORT on the page, > 1 means ours is faster',
    table(
      [
        'images',
        'batch',
        'threads evals/s',
        'split evals/s',
        'hybrid evals/s',
        'split/threads',
        'app/ORT',
      ],
      rows,
    ),
  ].join('\n');
}

function scalingTable(s) {
  const rows = s.cells.map((c) => [
    `${c.images}${c.cfg ? ' +CFG' : ''}`,
    c.modelBatch,
    fixed(c.ours),
    fixed(c.oursWorker),
    fixed(c.oursSplit),
    fixed(c.oursHybrid),
    fixed(c.theirs),
  ]);
  return [
    `speed-up from 1 thread to ${s.to.threads} (ours ${s.to.oursWasmThreads}, ORT ` +
      `${s.to.theirsThreads}): time at 1 / time at ${s.to.threads}, from the two wasm pages`,
    table(
      [
        'images',
        'batch',
        'ours (page)',
        'ours, worker threads',
        'ours, split',
        'ours, hybrid (app)',
        'ORT',
      ],
      rows,
    ),
  ].join('\n');
}

function convTable(p) {
  const rows = p.conv.map((c) => [
    `${c.channels}->${c.channels} 3x3 on ${c.batch}x${c.size}x${c.size}`,
    c.engine === 'ours' ? 'tfjs' : 'ORT',
    fixed(c.msPerConv),
    fixed(c.gflops),
  ]);
  return table(['conv', 'engine', 'ms', 'GFLOP/s'], rows);
}

function overheadTable(p) {
  const rows = p.overhead.map((o) => [
    `${o.images} +CFG`,
    o.modelBatch,
    fixed(o.stepMs, 1),
    fixed(o.bareMs, 1),
    pct(o.overhead),
    fixed(o.frameModelMs, 1),
    fixed(o.frameTotalMs, 1),
    pct(o.frameOverhead),
  ]);
  return table(
    [
      'images',
      'batch',
      'step ms',
      'bare model ms',
      'overhead',
      'frame modelMs',
      'frame totalMs',
      'frame overhead',
    ],
    rows,
  );
}

function nodeCpuTable(n) {
  const rows = n.cells.map((c) => [
    `${c.images}${c.cfg ? ' +CFG' : ''}`,
    c.modelBatch,
    fixed(c.oursCpuMs, 1),
    fixed(c.theirsCpuMs, 1),
    fixed(c.ratio),
    sci(c.maxAbsDiff),
  ]);
  const overhead = n.overhead.map((o) => [
    `${o.images} +CFG`,
    o.modelBatch,
    fixed(o.stepCpuMs, 1),
    fixed(o.modelCpuMs, 1),
    pct(o.overhead),
  ]);
  return [
    table(['images', 'batch', 'ours ms', 'ORT ms', 'ours/ORT', 'max |diff|'], rows),
    '',
    'engine overhead per step in CPU time (same run as the page: DPM++ 2M, guidance 2, mask, frames):',
    table(['images', 'batch', 'step ms', 'model ms', 'overhead'], overhead),
  ].join('\n');
}

export function printReport(results) {
  const m = results.machine;
  console.log(`\n## Model benchmark (${results.date})`);
  console.log(
    `${m.cpuModel}, ${m.cores} cores; load average ${m.loadAverageBefore.join(' ')} at start, ` +
      `${m.loadAverage.join(' ')} at end; chromium ${m.chromium}`,
  );
  console.log(
    'evals/s = model calls per second at that batch (input upload and output read-back included); ' +
      'GFLOP/s = images/s x GFLOP per image; % conv = of the best lone 3x3 conv on that backend.',
  );
  for (const p of results.pages) {
    console.log(`\n${backendHeader(p)}`);
    if (p.failed) continue;
    if (p.cells.length) console.log(`\n${modelTable(p)}`);
    const workers = workersTable(p);
    if (workers) console.log(`\n${workers}`);
    if (p.conv.length) {
      console.log(`\nconv roofline: best ${fixed(p.convLimitGflops)} GFLOP/s`);
      console.log(convTable(p));
    }
    if (p.overhead.length) {
      console.log(
        '\nengine overhead per step (RunController + DiffusionRun, DPM++ 2M, guidance 2, inpainting ' +
          'mask, frames) vs the bare model call on the same batch:',
      );
      console.log(overheadTable(p));
    }
    for (const e of p.errors) console.log(`error: ${e}`);
    console.log(`(${fixed(p.seconds, 0)} s)`);
  }
  if (results.threadScaling) console.log(`\n### Threads\n${scalingTable(results.threadScaling)}`);
  if (results.paused) {
    const p = results.paused;
    console.log(
      `\nPaused during measurement (--pause '${p.pattern}'): ${p.processes.length} process(es), ` +
        `${p.windows} window(s), ${fixed(p.pausedSeconds, 0)} s in all`,
    );
  }
  const n = results.nodeCpu;
  if (n?.failed) console.log(`\n### Node, CPU time: FAILED (${n.failed})`);
  else if (n) {
    console.log(
      `\n### Node ${n.node}, CPU time of the computing thread (${n.clock}): tfjs wasm vs ` +
        `onnxruntime-web ${n.ortVersion} wasm, ${n.threads} thread each; ms per evaluation, ` +
        'medians; ours/ORT > 1 = ours faster. Other jobs on the machine barely move these.',
    );
    console.log(nodeCpuTable(n));
  }
}
