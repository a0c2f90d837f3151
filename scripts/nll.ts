// `npm run nll`: the ELBO of a model on its test set, in bits per dimension (see NLL_USAGE).
import {
  ElboEstimate,
  klTermCount,
  summarizeElbo,
  vbTablesFromScheduler,
  type ElboImage,
} from '../src/engine/elbo';
import { UsageError, loadDiskModel, startBackend } from './lib/generate';
import { NLL_USAGE, parseNllArgs, type NllOptions } from './lib/nllOptions';
import { TestSetError, loadTestSet, pickIndices } from './lib/testSet';

const log = (line: string) => process.stderr.write(`${line}\n`);
// Significant digits, not decimals: L_T of a cosine schedule is ~1e-9 bits/dim.
const round = (x: number) => Number(x.toPrecision(6));

async function main(options: NllOptions): Promise<void> {
  const backend = await startBackend(options.backend, log);
  const model = await loadDiskModel(options.model, options.modelsDir);
  const { card } = model;
  const testSet = loadTestSet(card.dataset.id);
  const [h, w, c] = model.runModel.denoiser.imageShape;
  if (testSet.height !== h || testSet.width !== w || c !== 1) {
    throw new TestSetError(
      `${card.id} takes ${h}x${w}x${c} images; the ${testSet.dataset} test set holds ` +
        `${testSet.height}x${testSet.width}x1`,
    );
  }
  const variance = String(card.scheduler.variance_type ?? 'fixed_small');
  if (variance !== 'fixed_small' && variance !== 'fixed_large') {
    throw new UsageError(`${card.id}: variance_type '${variance}' is not a fixed variance`);
  }
  const indices = pickIndices(testSet.count, options.count, options.seed);
  const d = h * w;
  const images: ElboImage[] = indices.map((index) => {
    const bytes = testSet.pixels.subarray(index * d, (index + 1) * d);
    return {
      pixels: Float32Array.from(bytes, (b) => b / 127.5 - 1),
      classId: options.unconditional ? card.null_class_id : testSet.labels[index],
    };
  });
  const tables = vbTablesFromScheduler(card.scheduler);
  const T = tables.numTimesteps;
  const K =
    options.timesteps === 'all' ? klTermCount(T) : Math.min(options.timesteps, klTermCount(T));
  const estimate = new ElboEstimate(model.runModel.denoiser, tables, images, {
    timesteps: K,
    seed: options.noiseSeed ?? options.seed,
    clipDenoised: options.clipDenoised,
    batchSize: options.batch,
  });
  log(
    `${card.id} (${String(card.scheduler.beta_schedule)}, T = ${T}, sha256 ` +
      `${model.sha256.slice(0, 12)}...) on ${backend}: ${images.length} ${testSet.dataset} test ` +
      `images, ${K} of ${klTermCount(T)} KL terms each + L_0 + L_T, ` +
      `${options.unconditional ? 'unconditional' : 'class-conditional'}; ` +
      `${estimate.pairsTotal} model evaluations in ${estimate.callsTotal} calls of ${options.batch}`,
  );
  const start = performance.now();
  let lastLog = start;
  while (!estimate.done) {
    await estimate.runBatch();
    const now = performance.now();
    if (now - lastLog > 10_000 || estimate.done) {
      lastLog = now;
      const { pairsDone, pairsTotal } = estimate.progress;
      const s = (now - start) / 1000;
      const eta = (s / pairsDone) * (pairsTotal - pairsDone);
      log(
        `  ${pairsDone}/${pairsTotal} evaluations, ${s.toFixed(0)} s ` +
          `(${((1000 * s) / pairsDone).toFixed(1)} ms each), about ${eta.toFixed(0)} s left`,
      );
    }
  }
  const seconds = (performance.now() - start) / 1000;
  const results = estimate.results();
  if (options.perImage) {
    results.forEach((r, i) => {
      const { terms, ...rest } = r;
      log(
        JSON.stringify({
          index: indices[i],
          label: testSet.labels[indices[i]],
          ...rest,
          terms: terms.length,
        }),
      );
    });
  }
  const s = summarizeElbo(results);
  model.unet.dispose();
  const out = {
    model: card.id,
    beta_schedule: card.scheduler.beta_schedule,
    training_steps: card.training?.steps ?? null,
    weights_sha256: model.sha256,
    dataset: `${testSet.dataset} test`,
    count: images.length,
    seed: options.seed,
    noise_seed: options.noiseSeed ?? options.seed,
    conditioning: options.unconditional
      ? 'unconditional (null class)'
      : 'class-conditional (test label)',
    timesteps_used: {
      K,
      T,
      kl_terms: klTermCount(T),
      estimator: K >= klTermCount(T) ? 'exact sum' : 'stratified, one t per stratum',
    },
    variance,
    clip_denoised: options.clipDenoised,
    bits_per_dim: round(s.bitsPerDim.mean),
    bits_per_dim_stderr: round(s.bitsPerDim.stderr),
    L_0: round(s.decoderBits.mean),
    L_T: round(s.priorBits.mean),
    sum_L_t: round(s.klSumBits.mean),
    sum_L_t_stderr: round(s.klSumBits.stderr),
    fixed_large: {
      bits_per_dim: round(s.bitsPerDimLarge.mean),
      bits_per_dim_stderr: round(s.bitsPerDimLarge.stderr),
      sum_L_t: round(s.klSumBitsLarge.mean),
    },
    backend,
    batch: options.batch,
    seconds: Number(seconds.toFixed(1)),
    ms_per_evaluation: Number(((1000 * seconds) / estimate.pairsTotal).toFixed(2)),
  };
  log(
    `${card.id}: ${out.bits_per_dim} ± ${out.bits_per_dim_stderr} bits/dim (${variance}; ` +
      `fixed_large ${out.fixed_large.bits_per_dim}) over ${images.length} images in ${seconds.toFixed(0)} s`,
  );
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

let options: NllOptions | 'help';
try {
  options = parseNllArgs(process.argv.slice(2));
} catch (err) {
  log(`error: ${(err as Error).message}`);
  process.exit(2);
}
if (options === 'help') {
  process.stdout.write(`${NLL_USAGE}\n`);
} else {
  try {
    await main(options);
  } catch (err) {
    const expected = err instanceof UsageError || err instanceof TestSetError;
    log(`error: ${expected ? (err as Error).message : ((err as Error).stack ?? String(err))}`);
    process.exit(expected ? 2 : 1);
  }
}
