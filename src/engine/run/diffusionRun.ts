// A run: the state of one reverse process (x_t, position in the plan, history) that the worker
// advances one model call at a time. Settings can change between any two steps.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import { guidedModelOutput, impliedViews, type DenoiseModel } from '../denoiser';
import { convertSample, sampleSpaceOf, sigmaAtTimestep, beginIndexAtOrBelow } from '../replan';
import { BatchNoise } from '../rng';
import type { NoiseScheduleConfig } from '../schedule/betas';
import { createScheduler, type Scheduler } from '../schedulers';
import { schedulerConfigFor } from './schedulerConfig';
import { needsReplan, validateSettings, type RunSettings } from './settings';

/** What one step produced, for display: all arrays NHWC float32, values in image space [-1, 1]. */
export interface StepFrame {
  /** Model calls done so far in this plan (1 after the first step). */
  step: number;
  totalSteps: number;
  /** Training timestep the model saw. */
  timestep: number;
  /** Noise level (sigma = sqrt((1 - alphā)/alphā)) of the model's input. */
  sigma: number;
  /** The sample after this step, rescaled to the variance-preserving space. */
  sample: Float32Array;
  predictedX0: Float32Array;
  predictedNoise: Float32Array;
}

interface Snapshot {
  planIndex: number;
  sample: Float32Array;
}

/** Everything about the trained model the run needs. */
export interface RunModel {
  denoiser: DenoiseModel;
  numClasses: number;
  /** The model's training noise schedule, diffusers keys (num_train_timesteps, beta_schedule, ...). */
  scheduleConfig: Record<string, unknown>;
}

export class DiffusionRun {
  private settings: RunSettings;
  private scheduler: Scheduler;
  private sample: Tensor4D;
  private planIndex: number;
  private noise: BatchNoise;
  private knownNoise: BatchNoise;
  private readonly snapshots: Snapshot[] = [];
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
    this.scheduler = this.makeScheduler(settings);
    this.planIndex = this.startIndex();
    this.sample = this.initialSample();
  }

  get done(): boolean {
    return this.planIndex >= this.scheduler.timesteps.length;
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
    const before = (this.sample.dataSync() as Float32Array).slice();
    const { frame, views } = this.advance(before);
    try {
      return {
        ...frame,
        sample: this.displaySample(),
        predictedX0: views.predictedX0.dataSync() as Float32Array,
        predictedNoise: views.predictedNoise.dataSync() as Float32Array,
      };
    } finally {
      tf.dispose([views.predictedX0, views.predictedNoise]);
    }
  }

  /**
   * The same step with asynchronous read-back, for WebGPU: its synchronous read-back goes through
   * a WebGPU canvas, which loses the device under SwiftShader. Call nothing else on the run until
   * the promise settles.
   */
  async stepAsync(): Promise<StepFrame> {
    const before = ((await this.sample.data()) as Float32Array).slice();
    const { frame, views } = this.advance(before);
    try {
      const [sample, predictedX0, predictedNoise] = await Promise.all([
        this.displaySampleAsync(),
        views.predictedX0.data() as Promise<Float32Array>,
        views.predictedNoise.data() as Promise<Float32Array>,
      ]);
      return { ...frame, sample, predictedX0, predictedNoise };
    } finally {
      tf.dispose([views.predictedX0, views.predictedNoise]);
    }
  }

  /** The model call and scheduler step; `before` is the sample now, kept for stepBack. */
  private advance(before: Float32Array): {
    frame: Omit<StepFrame, 'sample' | 'predictedX0' | 'predictedNoise'>;
    views: { predictedX0: Tensor; predictedNoise: Tensor };
  } {
    if (this.done) throw new Error('The run is finished');
    const { denoiser } = this.model;
    const t = this.scheduler.timesteps[this.planIndex];
    const sigma = this.sigmaAt(this.planIndex);
    this.snapshots.push({ planIndex: this.planIndex, sample: before });

    const result = tf.tidy(() => {
      const modelInput = this.scheduler.scaleModelInput(this.sample, t) as Tensor4D;
      const output = guidedModelOutput(
        denoiser,
        modelInput,
        t,
        this.settings.classes,
        this.settings.guidanceScale,
      );
      const alpha = 1 / Math.sqrt(1 + sigma * sigma);
      const views = impliedViews(denoiser.predictionType, output, modelInput, alpha, sigma * alpha);
      const stepped = this.scheduler.step(output, t, this.sample, {
        eta: this.settings.eta,
        generator: this.noise,
      });
      stepped.predOriginalSample?.dispose();
      const next = this.applyKnownRegion(stepped.prevSample as Tensor4D, this.planIndex + 1);
      return { next: tf.keep(next), views };
    });
    this.sample.dispose();
    this.sample = result.next;
    this.planIndex++;
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
   * Goes back one step: the sample before the last step is restored and a fresh scheduler starts
   * there (multistep solvers rebuild their history, so they begin again at low order).
   * Returns false at the start.
   */
  stepBack(): boolean {
    const snapshot = this.snapshots.pop();
    if (!snapshot) return false;
    this.scheduler.dispose();
    this.scheduler = this.makeScheduler(this.settings);
    this.scheduler.setBeginIndex(snapshot.planIndex);
    this.planIndex = snapshot.planIndex;
    this.sample.dispose();
    this.sample = tf.tensor4d(snapshot.sample, this.shape);
    return true;
  }

  /** Takes effect at the next step; a new sampler, schedule or step count re-plans the rest. */
  update(patch: Partial<RunSettings>): void {
    const next = { ...this.settings, ...patch };
    if ('seeds' in patch && patch.seeds?.join() !== this.settings.seeds.join()) {
      throw new Error('Seeds and batch size are fixed for a run; start a new run to change them');
    }
    validateSettings(next, this.model.denoiser.imageShape, this.model.numClasses);
    const replan = needsReplan(patch) && !this.done;
    const oldScheduler = this.scheduler;
    this.settings = next;
    if (!replan) return;

    // The current sample sits at the noise level of the next planned timestep.
    const sigma = this.sigmaAt(this.planIndex);
    const timestep = oldScheduler.timesteps[this.planIndex];
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
    oldScheduler.dispose();
    this.scheduler = fresh;
    if (begin < fresh.timesteps.length) fresh.setBeginIndex(begin);
    this.planIndex = begin;
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
    return begin;
  }

  private initialSample(): Tensor4D {
    const source = this.settings.img2img;
    return tf.tidy(() => {
      const noise = this.noise.randn(this.shape);
      if (!source || this.done) {
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
