// A run: the state of one reverse process (x_t, position in the plan, history) that the worker
// advances one model call at a time. Settings can change between any two steps. When inpainting
// with resampleCount > 1 the run also jumps back (RePaint's resampling, see resampling.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import { withClassifierGuidance, type ClassifierGuide } from '../classifierGuidance';
import { guidedModelOutput, impliedViews, type DenoiseModel } from '../denoiser';
import { langevinStep } from '../langevin';
import type { LatentSpace, TextConditioner } from '../pipeline/sampleSpace';
import { convertSample, sampleSpaceOf, sigmaAtTimestep, beginIndexAtOrBelow } from '../replan';
import { BatchNoise } from '../rng';
import { makeNoiseTables, type NoiseScheduleConfig } from '../schedule/betas';
import { createScheduler, type Scheduler } from '../schedulers';
import { readBack, readBackSync } from './readBack';
import { jumpBackTo, renoise, stepBoundaries } from './resampling';
import { schedulerConfigFor } from './schedulerConfig';
import { needsReplan, validateSettings, type RunSettings } from './settings';

/** What one step produced, for display: all arrays NHWC float32, values in image space [-1, 1]. */
export interface StepFrame {
  /**
   * Position in the plan after this model call (1 after the first step; totalSteps at the end).
   * Without resampling it counts the model calls of this plan. With RePaint's resampling it is
   * where the run stands, not a count: a model call that follows a jump back has a smaller `step`
   * than the one before (by the jump's length in plan positions) and a larger `timestep`, so the
   * readout and the schedule plot show the run going back up in noise. (The worker's frame
   * `index` keeps counting model calls, jumps or not.)
   */
  step: number;
  totalSteps: number;
  /** Training timestep the model saw (goes up again after a resampling jump). */
  timestep: number;
  /** Noise level (sigma = sqrt((1 - alphā)/alphā)) of the model's input. */
  sigma: number;
  /** The sample after this step, rescaled to the variance-preserving space. */
  sample: Float32Array;
  predictedX0: Float32Array;
  predictedNoise: Float32Array;
}

/** A StepFrame without its images: what a step knows before the read-back. */
type StepInfo = Omit<StepFrame, 'sample' | 'predictedX0' | 'predictedNoise'>;

/** The state before one model call, for stepBack. */
interface Snapshot {
  planIndex: number;
  sample: Float32Array;
  /** The step whose resampling jump was still to come (see DiffusionRun.pendingJumpFrom). */
  pendingJumpFrom?: number | null;
  /** The step this model call jumped back from before calling the model, if it did. */
  jumpedFrom?: number | null;
}

/** diffusers' LMSDiscreteScheduler.step default `order`. */
const LMS_MAX_ORDER = 4;

/** A resampling jump: back from the end of solver step `from` to plan position `to`. */
interface Jump {
  from: number;
  to: number;
}

/** A run's position and sample on the CPU: enough to rebuild it on a new backend. */
/** `undone`: the state is the snapshot before the last step, whose result was lost with the backend. */
export type HostRunState = Snapshot & { undone?: boolean };

/**
 * The noisy-image classifier for classifier guidance, filled in when (and if) it has loaded; shared
 * by reference, so a run that started before it arrived can use it from its next step.
 */
export interface ClassifierSlot {
  guide: ClassifierGuide | null;
  /** Why there is no classifier (still loading, none trained for this data set, failed to load). */
  problem: string | null;
}

/** Everything about the trained model the run needs. */
export interface RunModel {
  denoiser: DenoiseModel;
  numClasses: number;
  /** The model's training noise schedule, diffusers keys (num_train_timesteps, beta_schedule, ...). */
  scheduleConfig: Record<string, unknown>;
  classifier?: ClassifierSlot;
  /** Latent pipelines: the run denoises latents; sources, masks and frames map through this. */
  latentSpace?: LatentSpace;
  /** Text-conditioned pipelines: the prompt the denoiser carries (class 0 = the prompt). */
  textConditioner?: TextConditioner;
}

export class DiffusionRun {
  private settings: RunSettings;
  private scheduler: Scheduler;
  private sample: Tensor4D;
  private planIndex: number;
  private noise: BatchNoise;
  private knownNoise: BatchNoise;
  private resampleNoise: BatchNoise;
  /** The Langevin corrector's own stream: turning it on does not shift the sampler's noise. */
  private langevinNoise: BatchNoise;
  /** Where the current plan was entered: the start index, or where a re-plan began. */
  private planStart = 0;
  /** Step starts of the current plan (stepBoundaries), computed when resampling first needs them. */
  private boundaries: number[] | null = null;
  /**
   * The solver step the last model call finished, while resampling is on. Its jump back (if the
   * rule and the counts call for one) is taken at the start of the next model call, so that the
   * frame of the finished step shows the denoised sample, not the re-noised one.
   */
  private pendingJumpFrom: number | null = null;
  /** Jumps taken back from each solver step of the current plan (RePaint's r - 1 at most). */
  private readonly jumpsTaken = new Map<number, number>();
  /**
   * PLMS (PNDM with skip_prk_steps) spends two calls on its first step: the second re-evaluates
   * it with the averaged slope, which its own plan allows for by repeating a timestep. A fresh
   * PNDM started mid-plan has no such repeat, so the run gives it one: 'first' until its first
   * call, then 'correction' for a call that stays at the same plan position.
   */
  private plmsWarmup: 'none' | 'first' | 'correction' = 'none';
  /**
   * Model calls since the scheduler was last re-created mid-run (null: running since the start).
   * LMS picks its order from the plan index as if it had every earlier derivative, so a restarted
   * LMS is told to build its order up again from these calls (diffusers' `order` argument).
   */
  private callsSinceRestart: number | null = null;
  private readonly snapshots: Snapshot[] = [];
  /** `sample` as read back after the last step (a lost GPU device loses the tensor itself). */
  private hostSample: { of: Tensor4D; values: Float32Array } | null = null;
  private readonly shape: [number, number, number, number];

  constructor(
    private readonly model: RunModel,
    settings: RunSettings,
  ) {
    const [h, w, c] = model.denoiser.imageShape;
    validateSettings(settings, model.denoiser.imageShape, model.numClasses);
    this.settings = settings;
    this.shape = [settings.seeds.length, h, w, c];
    this.noise = new BatchNoise(settings.seeds);
    // A separate stream noises the known region, so inpainting does not shift the main noise.
    this.knownNoise = new BatchNoise(settings.seeds.map((s) => (s ^ 0x5bd1e995) >>> 0));
    // And another re-noises for resampling jumps: the same seed gives the same pixels, and
    // resampling draws nothing from the main stream's re-noising or the known region's.
    this.resampleNoise = new BatchNoise(settings.seeds.map((s) => (s ^ 0x27d4eb2f) >>> 0));
    this.langevinNoise = new BatchNoise(settings.seeds.map((s) => (s ^ 0x165667b1) >>> 0));
    this.checkClassifier(settings);
    this.scheduler = this.makeScheduler(settings);
    this.planIndex = this.startIndex();
    this.planStart = this.planIndex;
    this.sample = this.initialSample();
  }

  /** At the plan's end with no resampling jump left to take. */
  get done(): boolean {
    return this.planIndex >= this.scheduler.timesteps.length && this.dueJump() === null;
  }

  get position(): { planIndex: number; total: number; schedulerClass: string } {
    return {
      planIndex: this.planIndex,
      total: this.scheduler.timesteps.length,
      schedulerClass: this.scheduler.className,
    };
  }

  get currentSettings(): Readonly<RunSettings> {
    return this.settings;
  }

  /** One model call and one scheduler step (synchronous read-back: CPU, WASM, WebGL). */
  step(): StepFrame {
    const before = this.hostCopy() ?? (this.sample.dataSync() as Float32Array).slice();
    const { frame, shown, owned } = this.advanceShown(before);
    try {
      return this.frameFrom(frame, readBackSync(shown));
    } finally {
      tf.dispose(owned);
    }
  }

  /**
   * The same step with asynchronous read-back, for WebGPU: its synchronous read-back goes through
   * a WebGPU canvas, which loses the device under SwiftShader. Call nothing else on the run until
   * the promise settles.
   */
  async stepAsync(): Promise<StepFrame> {
    const before = this.hostCopy() ?? ((await this.sample.data()) as Float32Array).slice();
    const { frame, shown, owned } = this.advanceShown(before);
    try {
      return this.frameFrom(frame, await readBack(shown));
    } finally {
      tf.dispose(owned);
    }
  }

  /**
   * advance(), and the tensors its frame shows, in readBack order: the displayed sample, x_0, the
   * noise, and the raw sample (kept on the host for recovery). `owned`: the ones to dispose.
   */
  private advanceShown(before: Float32Array): {
    frame: StepInfo;
    shown: Tensor[];
    owned: Tensor[];
  } {
    const { frame, views } = this.advance(before);
    const owned = [this.displaySampleTensor(), views.predictedX0, views.predictedNoise];
    return { frame, shown: [...owned, this.sample], owned };
  }

  /** The step's frame from the values advanceShown's tensors read back. */
  private frameFrom(
    frame: StepInfo,
    [sample, predictedX0, predictedNoise, raw]: Float32Array[],
  ): StepFrame {
    this.keepHostCopy(raw.slice());
    return { ...frame, sample, predictedX0, predictedNoise };
  }

  /** The model call and scheduler step; `before` is the sample now, kept for stepBack. */
  private advance(before: Float32Array): {
    frame: StepInfo;
    views: { predictedX0: Tensor; predictedNoise: Tensor };
  } {
    if (this.done) throw new Error('The run is finished');
    const jump = this.dueJump();
    this.snapshots.push({
      planIndex: this.planIndex,
      sample: before,
      pendingJumpFrom: this.pendingJumpFrom,
      jumpedFrom: jump?.from ?? null,
    });
    this.pendingJumpFrom = null;
    if (jump) this.jumpBack(jump);
    const { denoiser } = this.model;
    const t = this.scheduler.timesteps[this.planIndex];
    const sigma = this.sigmaAt(this.planIndex);
    // A PLMS correction re-takes the step that led here: the sample stays at this position.
    const warmup = this.plmsWarmup;
    const nextIndex = warmup === 'correction' ? this.planIndex : this.planIndex + 1;

    const result = tf.tidy(() => {
      const modelInput = this.scheduler.scaleModelInput(this.sample, t) as Tensor4D;
      const output = this.modelOutput(modelInput, t, sigma);
      const alpha = 1 / Math.sqrt(1 + sigma * sigma);
      const views = impliedViews(denoiser.predictionType, output, modelInput, alpha, sigma * alpha);
      const stepped = this.scheduler.step(output, t, this.sample, {
        eta: this.settings.eta,
        generator: this.noise,
        ...this.restartedOrder(),
      });
      stepped.predOriginalSample?.dispose();
      const corrected =
        warmup === 'first'
          ? (stepped.prevSample as Tensor4D)
          : this.langevinCorrected(stepped.prevSample as Tensor4D, nextIndex);
      const next = this.applyKnownRegion(corrected, nextIndex);
      return { next: tf.keep(next), views };
    });
    this.sample.dispose();
    this.sample = result.next;
    this.planIndex = nextIndex;
    this.plmsWarmup = warmup === 'first' ? 'correction' : 'none';
    if (this.callsSinceRestart !== null) this.callsSinceRestart++;
    // PLMS's first call after a fresh start is half of its step; the correction finishes it.
    if (warmup !== 'first') this.pendingJumpFrom = this.finishedStep();
    return {
      frame: {
        step: this.planIndex,
        totalSteps: this.scheduler.timesteps.length,
        timestep: t,
        sigma,
      },
      views: result.views,
    };
  }

  /**
   * Goes back one model call: the sample before it is restored and a fresh scheduler starts
   * there (multistep solvers rebuild their history, so they begin again at low order). A
   * resampling jump taken by that call is undone with it, and is due again on the next step.
   * Returns false at the start.
   */
  stepBack(): boolean {
    const snapshot = this.snapshots.pop();
    if (!snapshot) return false;
    const jumpedFrom = snapshot.jumpedFrom ?? null;
    if (jumpedFrom !== null) {
      this.jumpsTaken.set(jumpedFrom, (this.jumpsTaken.get(jumpedFrom) ?? 1) - 1);
    }
    this.pendingJumpFrom = snapshot.pendingJumpFrom ?? null;
    this.sample.dispose();
    this.sample = tf.tensor4d(snapshot.sample, this.shape);
    this.keepHostCopy(snapshot.sample);
    this.restartScheduler(snapshot.planIndex, this.makeScheduler(this.settings));
    return true;
  }

  /** The CPU copy of the current sample, if the last read-back was of this very tensor. */
  private hostCopy(): Float32Array | null {
    return this.hostSample?.of === this.sample ? this.hostSample.values : null;
  }

  private keepHostCopy(values: Float32Array): void {
    this.hostSample = { of: this.sample, values };
  }

  /**
   * For a backend whose GPU device was lost: frees the run's tensors and returns the newest state
   * the CPU still holds, the sample after the last step or else the one before it (that step is
   * then undone, as by stepBack); null when there is neither. Call resumeOnBackend next, on the
   * new backend.
   */
  releaseTensors(): HostRunState | null {
    const copy = this.hostCopy();
    let state: HostRunState | null = copy ? { planIndex: this.planIndex, sample: copy } : null;
    if (!state) {
      const snapshot = this.snapshots.pop();
      if (snapshot) {
        const jumpedFrom = snapshot.jumpedFrom ?? null;
        if (jumpedFrom !== null) {
          this.jumpsTaken.set(jumpedFrom, (this.jumpsTaken.get(jumpedFrom) ?? 1) - 1);
        }
        this.pendingJumpFrom = snapshot.pendingJumpFrom ?? null;
        state = { ...snapshot, undone: true };
      }
    }
    this.hostSample = null;
    try {
      this.sample.dispose();
      this.scheduler.dispose();
    } catch {
      // The backend is already gone, and its tensors with it.
    }
    return state;
  }

  /** Continues from `state` on the current backend, with a fresh scheduler (as after stepBack). */
  resumeOnBackend(state: HostRunState): void {
    this.sample = tf.tensor4d(state.sample, this.shape);
    this.keepHostCopy(state.sample);
    this.restartScheduler(state.planIndex, this.makeScheduler(this.settings));
  }

  /** Takes effect at the next step; a new sampler, schedule or step count re-plans the rest. */
  update(patch: Partial<RunSettings>): void {
    const next = { ...this.settings, ...patch };
    if ('seeds' in patch && patch.seeds?.join() !== this.settings.seeds.join()) {
      throw new Error('Seeds and batch size are fixed for a run; start a new run to change them');
    }
    validateSettings(next, this.model.denoiser.imageShape, this.model.numClasses);
    this.checkClassifier(next);
    const wasDone = this.done;
    const replan = needsReplan(patch, next.sampler) && !wasDone;
    const oldScheduler = this.scheduler;
    this.settings = next;
    // A finished run stays finished: more resampling now would re-open its last jump.
    if (wasDone) this.pendingJumpFrom = null;
    if (!replan) return;

    // The current sample sits at the noise level of the next planned timestep (at the end, with
    // only a resampling jump left, at the final level: the new plan then has nothing left to do
    // and the jump is dropped).
    const sigma = this.sigmaAt(this.planIndex);
    const ended = this.planIndex >= oldScheduler.timesteps.length;
    const timestep = ended ? -Infinity : oldScheduler.timesteps[this.planIndex];
    const fresh = this.makeScheduler(next);
    const begin = beginIndexAtOrBelow(fresh, timestep);
    const converted = convertSample(
      this.sample,
      sampleSpaceOf(oldScheduler),
      sampleSpaceOf(fresh),
      sigma,
    );
    this.sample.dispose();
    this.sample = converted as Tensor4D;
    this.restartScheduler(begin, fresh);
    // Resampling starts over in the new plan: its steps are not the old plan's.
    this.planStart = this.planIndex;
    this.boundaries = null;
    this.jumpsTaken.clear();
    this.pendingJumpFrom = null;
    this.snapshots.length = 0;
  }

  /** The current sample in the variance-preserving space (the final image once done). */
  displaySample(): Float32Array {
    const x = this.displaySampleTensor();
    try {
      return x.dataSync() as Float32Array;
    } finally {
      x.dispose();
    }
  }

  async displaySampleAsync(): Promise<Float32Array> {
    const x = this.displaySampleTensor();
    try {
      return (await x.data()) as Float32Array;
    } finally {
      x.dispose();
    }
  }

  private displaySampleTensor(): Tensor {
    if (sampleSpaceOf(this.scheduler) === 'variance-preserving' || this.done) {
      return this.sample.clone();
    }
    const sigma = this.sigmaAt(this.planIndex);
    return tf.tidy(() => this.sample.div(Math.sqrt(1 + sigma * sigma)));
  }

  dispose(): void {
    this.sample.dispose();
    this.scheduler.dispose();
    this.snapshots.length = 0;
  }

  /**
   * Replaces the scheduler with `fresh` (same plan, or a new one) starting at plan position
   * `index`, with no history. Re-created rather than restored wherever the run moves (Step back,
   * re-plan, resampling jump): a multistep solver's history belongs to the samples the run came
   * through, and after a jump the sample at the target is a new draw from q(x_t | x_t'), so the
   * old model outputs would be extrapolated against a sample they were not computed on.
   * PLMS gets its two-call first step back (plmsWarmup); its plan position 1 repeats position 2's
   * timestep and is only reachable inside that first step, so a start there begins at 2.
   */
  private restartScheduler(index: number, fresh: Scheduler): void {
    this.scheduler.dispose();
    this.scheduler = fresh;
    const total = fresh.timesteps.length;
    const plms = fresh.className === 'PNDMScheduler';
    const begin = plms && index === 1 ? Math.min(2, total) : index;
    if (begin < total) fresh.setBeginIndex(begin);
    this.planIndex = begin;
    this.plmsWarmup = plms && begin > 0 && begin + 1 < total ? 'first' : 'none';
    this.callsSinceRestart = 0;
  }

  /** LMS's order after a restart: 1, 2, 3, 4 as at the start of its plan (see callsSinceRestart). */
  private restartedOrder(): { order?: number } {
    if (this.callsSinceRestart === null || this.scheduler.className !== 'LMSDiscreteScheduler') {
      return {};
    }
    return { order: Math.min(this.callsSinceRestart + 1, LMS_MAX_ORDER) };
  }

  /** Resampling is on for this run's current settings. */
  private get resampling(): boolean {
    return this.settings.inpaint !== null && (this.settings.resampleCount ?? 1) > 1;
  }

  private stepStarts(): number[] {
    this.boundaries ??= stepBoundaries(this.scheduler);
    return this.boundaries;
  }

  /** The solver step that ends at the current plan position, if one does and resampling is on. */
  private finishedStep(): number | null {
    if (!this.resampling) return null;
    const at = this.stepStarts().indexOf(this.planIndex);
    return at >= 1 ? at - 1 : null;
  }

  /** The jump to take before the next model call, under the settings as they are now. */
  private dueJump(): Jump | null {
    const from = this.pendingJumpFrom;
    if (from === null || !this.resampling) return null;
    const repeats = (this.settings.resampleCount ?? 1) - 1;
    if ((this.jumpsTaken.get(from) ?? 0) >= repeats) return null;
    const starts = this.stepStarts();
    const firstStep = starts.findIndex((position) => position >= this.planStart);
    const back = jumpBackTo(from, starts.length - 1, firstStep, this.settings.jumpLength ?? 1);
    return back === null ? null : { from, to: starts[back] };
  }

  /** Noises the whole sample forward to the level of plan position `to` and restarts there. */
  private jumpBack(jump: Jump): void {
    this.jumpsTaken.set(jump.from, (this.jumpsTaken.get(jump.from) ?? 0) + 1);
    const space = sampleSpaceOf(this.scheduler);
    const sigmaFrom = this.sigmaAt(this.planIndex);
    const sigmaTo = this.sigmaAt(jump.to);
    const noised = tf.tidy(
      () =>
        renoise(
          this.sample,
          space,
          sigmaFrom,
          sigmaTo,
          this.resampleNoise.randn(this.shape),
        ) as Tensor4D,
    );
    this.sample.dispose();
    this.sample = noised;
    this.restartScheduler(jump.to, this.makeScheduler(this.settings));
  }

  /**
   * The model's output for a variance-preserving input x at noise level sigma: classifier-free
   * guidance in one batched call, then classifier guidance when its scale is above 0.
   */
  private modelOutput(x: Tensor4D, t: number, sigma: number): Tensor4D {
    const { denoiser } = this.model;
    const { classes, guidanceScale } = this.settings;
    const output = guidedModelOutput(denoiser, x, t, classes, guidanceScale);
    const scale = this.settings.classifierGuidanceScale ?? 0;
    const guide = this.model.classifier?.guide;
    if (scale === 0 || !guide) return output;
    return tf.tidy(() => {
      const gradient = guide.gradient(x, sigma, classes);
      return withClassifierGuidance(denoiser.predictionType, output, x, sigma, gradient, scale);
    });
  }

  /** Classifier guidance needs the classifier: say why it is missing rather than ignore the scale. */
  private checkClassifier(settings: RunSettings): void {
    if ((settings.classifierGuidanceScale ?? 0) === 0 || this.model.classifier?.guide) return;
    const why = this.model.classifier?.problem ?? 'this model has no noisy-image classifier';
    throw new Error(`Classifier guidance is not available: ${why}`);
  }

  /**
   * Song et al.'s corrector: Langevin steps at the noise level of plan position `index` with the
   * (guided) score -eps / sigma_t, taken in the variance-preserving space with a = 1 - beta_t.
   * Only where a solver step has finished (not between the two calls of Heun or DPM2) and not for
   * the Annealed Langevin sampler, which is made of such steps already.
   */
  private langevinCorrected(x: Tensor4D, index: number): Tensor4D {
    const steps = this.settings.langevinSteps ?? 0;
    const total = this.scheduler.timesteps.length;
    if (steps === 0 || index >= total) return x;
    if (this.scheduler.className === 'AnnealedLangevinScheduler') return x;
    if (this.scheduler.order > 1 && !stepBoundaries(this.scheduler).includes(index)) return x;
    const t = this.scheduler.timesteps[index];
    const sigma = this.sigmaAt(index);
    if (!(sigma > 0)) return x;
    const factor =
      sampleSpaceOf(this.scheduler) === 'sigma-scaled' ? Math.sqrt(1 + sigma * sigma) : 1;
    const alpha = 1 / Math.sqrt(1 + sigma * sigma);
    const alphas = this.trainingAlphas();
    const alphaStep = alphas[Math.min(alphas.length - 1, Math.max(0, Math.round(t)))];
    const snr = this.settings.langevinSnr ?? 0.16;
    let xVp = tf.div(x, factor) as Tensor4D;
    for (let k = 0; k < steps; k++) {
      const output = this.modelOutput(xVp, t, sigma);
      const { predictedNoise } = impliedViews(
        this.model.denoiser.predictionType,
        output,
        xVp,
        alpha,
        sigma * alpha,
      );
      const score = tf.div(predictedNoise, -sigma * alpha);
      xVp = langevinStep(
        xVp,
        score,
        this.langevinNoise.randn(this.shape),
        snr,
        alphaStep,
      ) as Tensor4D;
    }
    return tf.mul(xVp, factor) as Tensor4D;
  }

  /** 1 - beta_t of the model's training schedule, built once (the corrector reads it every step). */
  private alphasTable: Float32Array | null = null;
  private trainingAlphas(): Float32Array {
    this.alphasTable ??= makeNoiseTables(
      this.model.scheduleConfig as unknown as NoiseScheduleConfig,
    ).alphas;
    return this.alphasTable;
  }

  private makeScheduler(settings: RunSettings): Scheduler {
    const { scheduler: name, config } = schedulerConfigFor(this.model.scheduleConfig, settings);
    const scheduler = createScheduler(name, config);
    scheduler.setTimesteps(settings.steps);
    return scheduler;
  }

  /**
   * Where the plan starts, set explicitly: looking a timestep up by value (diffusers'
   * index_for_timestep) is ambiguous when a plan repeats timesteps, as Karras sigmas on the
   * cosine schedule do. img2img skips the first (1 - strength) of the plan like diffusers'
   * get_timesteps.
   */
  private startIndex(): number {
    const img2img = this.settings.img2img;
    const steps = this.settings.steps;
    const initTimestep = img2img ? Math.min(Math.floor(steps * img2img.strength), steps) : steps;
    const begin = Math.max(steps - initTimestep, 0) * this.scheduler.order;
    if (begin < this.scheduler.timesteps.length) this.scheduler.setBeginIndex(begin);
    // Nothing left to do (a strength below 1 / steps) is the end of the plan, not past it: a
    // second-order plan is 2n - 1 model calls long, not 2n.
    return Math.min(begin, this.scheduler.timesteps.length);
  }

  private initialSample(): Tensor4D {
    const source = this.settings.img2img;
    return tf.tidy(() => {
      const noise = this.noise.randn(this.shape);
      // img2img with nothing left to do (strength below 1 / steps) starts and ends at the source.
      if (!source) {
        const x = noise.mul(this.scheduler.initNoiseSigma) as Tensor4D;
        return this.applyKnownRegion(x, this.planIndex);
      }
      const x0 = this.sourceBatch(source.pixels);
      return this.noised(x0, noise, this.planIndex);
    });
  }

  /** Noise level of the sample that enters plan position i (0 once past the end). */
  private sigmaAt(i: number): number {
    const { timesteps, sigmas } = this.scheduler;
    if (i >= timesteps.length) return 0;
    if (sigmas) return sigmas[i];
    return sigmaAtTimestep(
      this.model.scheduleConfig as unknown as NoiseScheduleConfig,
      timesteps[i],
    );
  }

  /** x_0 noised to the level of plan position i, in this scheduler's sample space. */
  private noised(x0: Tensor, noise: Tensor, i: number): Tensor4D {
    const sigma = this.sigmaAt(i);
    return tf.tidy(() => {
      if (sampleSpaceOf(this.scheduler) === 'sigma-scaled') return x0.add(noise.mul(sigma));
      const alpha = 1 / Math.sqrt(1 + sigma * sigma);
      return x0.mul(alpha).add(noise.mul(sigma * alpha));
    }) as Tensor4D;
  }

  private sourceBatch(pixels: Float32Array): Tensor4D {
    const [, h, w, c] = this.shape;
    return tf.tidy(() => tf.tensor4d(pixels, [1, h, w, c]).tile([this.shape[0], 1, 1, 1]));
  }

  /** RePaint's known-region replacement: outside the mask, the source noised to the same level. */
  private applyKnownRegion(x: Tensor4D, nextIndex: number): Tensor4D {
    const inpaint = this.settings.inpaint;
    if (!inpaint) return x;
    const [, h, w] = this.shape;
    return tf.tidy(() => {
      const mask = tf.tensor4d(inpaint.mask, [1, h, w, 1]);
      const x0 = this.sourceBatch(inpaint.pixels);
      const known = this.noised(x0, this.knownNoise.randn(this.shape), nextIndex);
      return x.mul(mask).add(known.mul(tf.scalar(1).sub(mask))) as Tensor4D;
    });
  }
}
