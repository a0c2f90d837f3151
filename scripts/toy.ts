// Trains the toy 2D diffusion model in Node with the same engine code the Train view's worker
// runs, samples from it and prints, last, one JSON line with the loss and the distances.
// `npm run toy -- --dataset moons --steps 3000 --seed 1` (`--help` lists every option).
import * as tf from '@tensorflow/tfjs-core';
import {
  PRESET_DATASETS,
  isPresetDataset,
  presetPoints,
  splitHeldOut,
  type PresetDataset,
} from '../src/engine/train/datasets';
import { DISTANCE_METRIC } from '../src/engine/train/distance';
import { MMD_METRIC } from '../src/engine/train/mmd';
import { distances, x0ClipRange } from '../src/engine/train/evaluate';
import {
  DEFAULT_MODEL_CONFIG,
  DEFAULT_TRAIN_CONFIG,
  TOY_BETA_SCHEDULES,
  TOY_PREDICTIONS,
  configProblems,
  samplerProblem,
  type ToyBetaSchedule,
  type ToyModelConfig,
  type ToyPrediction,
  type ToyTrainConfig,
} from '../src/engine/train/toyConfig';
import { parameterCount } from '../src/engine/train/toyDenoiser';
import { sampleParticles } from '../src/engine/train/toySampler';
import { ToyTrainer } from '../src/engine/train/toyTrainer';
import { startBackend, type CliBackend } from './lib/generate';

const USAGE = `usage: npm run toy -- [options]

  --dataset NAME      ${PRESET_DATASETS.join('|')} (default moons)
  --text TEXT         the text of --dataset text (default HI)
  --steps N           training steps (default 3000)
  --seed N            seeds the data, the weights, the batches and the sampler (default 1)
  --schedule S        beta schedule: ${TOY_BETA_SCHEDULES.join('|')} (default linear)
  --timesteps N       training timesteps T (default ${DEFAULT_MODEL_CONFIG.numTrainTimesteps})
  --prediction P      ${TOY_PREDICTIONS.join('|')} (default epsilon)
  --width N           MLP width (default ${DEFAULT_MODEL_CONFIG.width})
  --depth N           residual blocks (default ${DEFAULT_MODEL_CONFIG.depth})
  --lr X              Adam learning rate (default ${DEFAULT_TRAIN_CONFIG.learningRate})
  --ema D             decay of the weights' moving average that samples (default ${DEFAULT_TRAIN_CONFIG.emaDecay}; 0 = raw weights)
  --batch N           batch size (default ${DEFAULT_TRAIN_CONFIG.batchSize})
  --sampler NAME      sampler menu name, e.g. DDPM, "DPM++ 2M", Euler (default DDPM)
  --sample-steps N    reverse steps (default: T)
  --samples N         generated points, also the number of held-out points (default 2000)
  --eval-every N      also sample and print the distance every N steps, with the training time
                      so far (to stderr; default 0 = only at the end)
  --backend B         wasm|cpu (default wasm)`;

interface ToyCliOptions {
  dataset: PresetDataset;
  text: string;
  steps: number;
  model: ToyModelConfig;
  train: ToyTrainConfig;
  sampler: string;
  sampleSteps: number | null;
  samples: number;
  evalEvery: number;
  backend: CliBackend;
}

function parseArgs(argv: string[]): ToyCliOptions {
  const o: ToyCliOptions = {
    dataset: 'moons',
    text: 'HI',
    steps: 3000,
    model: { ...DEFAULT_MODEL_CONFIG },
    train: { ...DEFAULT_TRAIN_CONFIG },
    sampler: 'DDPM',
    sampleSteps: null,
    samples: 2000,
    evalEvery: 0,
    backend: 'wasm',
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    const num = Number(value);
    switch (flag) {
      case '--dataset':
        if (!isPresetDataset(value))
          throw new Error(`--dataset must be one of ${PRESET_DATASETS.join(', ')}`);
        o.dataset = value;
        break;
      case '--text':
        o.text = value;
        break;
      case '--steps':
        o.steps = num;
        break;
      case '--seed':
        o.train.seed = num;
        break;
      case '--schedule':
        o.model.betaSchedule = value as ToyBetaSchedule;
        break;
      case '--timesteps':
        o.model.numTrainTimesteps = num;
        break;
      case '--prediction':
        o.model.prediction = value as ToyPrediction;
        break;
      case '--width':
        o.model.width = num;
        break;
      case '--depth':
        o.model.depth = num;
        break;
      case '--lr':
        o.train.learningRate = num;
        break;
      case '--ema':
        o.train.emaDecay = num;
        break;
      case '--batch':
        o.train.batchSize = num;
        break;
      case '--sampler':
        o.sampler = value;
        break;
      case '--sample-steps':
        o.sampleSteps = num;
        break;
      case '--eval-every':
        o.evalEvery = num;
        break;
      case '--samples':
        o.samples = num;
        break;
      case '--backend':
        if (value !== 'wasm' && value !== 'cpu') throw new Error('--backend must be wasm or cpu');
        o.backend = value;
        break;
      default:
        throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  const problems = configProblems(o.model, o.train);
  if (!Number.isInteger(o.steps) || o.steps < 1)
    problems.push('--steps must be a positive whole number');
  if (!Number.isInteger(o.evalEvery) || o.evalEvery < 0) {
    problems.push('--eval-every must be a whole number >= 0');
  }
  if (!Number.isInteger(o.samples) || o.samples < 10)
    problems.push('--samples must be a whole number >= 10');
  const sp = samplerProblem(o.sampler, o.sampleSteps ?? o.model.numTrainTimesteps, o.model);
  if (sp) problems.push(sp);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return o;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const backend = await startBackend(o.backend, (line) => console.error(line));
  // The held-out half is as large as the generated set, so the distance compares equal sizes.
  const all = presetPoints(o.dataset, 4 * o.samples, o.train.seed, o.text);
  const { train, heldOut } = splitHeldOut(all, 0.25, o.train.seed);
  const trainer = new ToyTrainer(o.model, o.train, train);
  console.error(
    `toy: ${o.dataset}, ${train.length / 2} training / ${heldOut.length / 2} held-out points, ` +
      `${parameterCount(o.model)} parameters, ${o.model.betaSchedule} schedule, T=${o.model.numTrainTimesteps}, ` +
      `${o.model.prediction} target, backend ${backend}`,
  );
  const sampleSteps = o.sampleSteps ?? o.model.numTrainTimesteps;
  const clipX0 = x0ClipRange(train);
  const sample = () =>
    sampleParticles(o.train.emaDecay > 0 ? trainer.averaged : trainer.model, trainer.tables, {
      sampler: o.sampler,
      steps: sampleSteps,
      count: o.samples,
      seed: o.train.seed + 1000,
      fieldSize: 0,
      fieldExtent: 3,
      clipX0,
    });
  let trainMs = 0;
  let sliceStart = performance.now();
  let last = trainer.trainStep();
  while (trainer.step < o.steps) {
    last = trainer.trainStep();
    if (o.evalEvery > 0 && trainer.step % o.evalEvery === 0) {
      trainMs += performance.now() - sliceStart;
      const { distance, baselineDistance } = distances(sample(), heldOut);
      console.error(
        `eval at step ${trainer.step} after ${(trainMs / 1000).toFixed(1)} s of training: ` +
          `distance ${distance.toFixed(4)} (noise ${baselineDistance.toFixed(4)})`,
      );
      sliceStart = performance.now();
    }
    if (trainer.step % 500 === 0) {
      console.error(
        `step ${trainer.step}: loss ${last.loss.toFixed(4)}, EMA ${last.lossEma.toFixed(4)}`,
      );
    }
  }
  const trainSeconds = (trainMs + performance.now() - sliceStart) / 1000;
  const sampleStart = performance.now();
  const trajectory = sample();
  const sampleSeconds = (performance.now() - sampleStart) / 1000;
  const report = distances(trajectory, heldOut);
  trainer.dispose();
  console.log(
    JSON.stringify({
      dataset: o.dataset,
      schedule: o.model.betaSchedule,
      prediction: o.model.prediction,
      steps: o.steps,
      seed: o.train.seed,
      sampler: o.sampler,
      sample_steps: sampleSteps,
      backend,
      weight_ema: o.train.emaDecay,
      steps_per_second: Number((o.steps / trainSeconds).toFixed(1)),
      sample_seconds: Number(sampleSeconds.toFixed(2)),
      x0_clip: Number(clipX0.toFixed(3)),
      final_loss: Number(last.lossEma.toFixed(5)),
      metric: `${MMD_METRIC}; ${o.samples} samples vs ${heldOut.length / 2} held-out points`,
      distance: Number(report.distance.toFixed(4)),
      baseline_distance: Number(report.baselineDistance.toFixed(4)),
      sliced_wasserstein: Number(report.slicedWasserstein.toFixed(4)),
      baseline_sliced_wasserstein: Number(report.baselineSlicedWasserstein.toFixed(4)),
      sliced_wasserstein_metric: `${DISTANCE_METRIC}, data standard deviations`,
      tensors_left: tf.memory().numTensors,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(`toy: ${(err as Error).message}`);
  process.exit(1);
});
