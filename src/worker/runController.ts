// The worker's side of a run: owns the DiffusionRun, advances it one model call per task (so
// commands arriving between steps are handled promptly), keeps the frames along the run's path
// for Step back, and posts frames throttled to what a screen can show. No DOM: runs in Node too.
// Steps read results back asynchronously (WebGPU has no usable synchronous read-back), so every
// command runs in one queue: none starts while a step is in flight.
import * as tf from '@tensorflow/tfjs-core';
import type { DenoiseModel } from '../engine/denoiser';
import { sigmaAtTimestep } from '../engine/replan';
import { DiffusionRun, type RunModel, type StepFrame } from '../engine/run/diffusionRun';
import { needsReplan, type RunSettings } from '../engine/run/settings';
import { windowedRunModel } from '../engine/outpaint/windowedDenoiser';
import type { NoiseScheduleConfig } from '../engine/schedule/betas';
import type { SchedulePlan } from '../engine/schedulePlan';
import { imageToBytes, noiseToBytes } from './frameBytes';
import { decodeLatents } from '../engine/pipeline/decodeLatents';
import { latentGridImage } from '../engine/pipeline/sampleSpace';
import { settingsForModel } from '../engine/pipeline/runInSampleSpace';
import type {
  FrameCause,
  FrameData,
  FromWorker,
  PlanSettings,
  RunPatch,
  RunState,
} from './protocol';
import { buildSchedulePlan } from '../engine/schedulePlan';

export type Post = (message: FromWorker, transfer?: Transferable[]) => void;
/** Runs a function as a new task, after messages already queued (MessageChannel in the worker). */
export type Defer = (fn: () => void) => void;

/** Frames closer together than this while running are not all posted (60 Hz). */
export const MIN_FRAME_INTERVAL_MS = 16;

export class RunController {
  private model: RunModel | null = null;
  private timedModel: RunModel | null = null;
  private run: DiffusionRun | null = null;
  private runId = 0;
  private state: RunState = 'idle';
  private index = 0;
  /** Frames along the path since the start or the last re-plan; the last is the current state. */
  private path: FrameData[] = [];
  /** The newest frame not yet posted because the previous one went out less than 16 ms ago. */
  private pending: FrameData | null = null;
  private lastPostAt = -Infinity;
  private loopScheduled = false;
  private modelMs = 0;
  private queue: Promise<unknown> = Promise.resolve();
  /** A step failed while the device was being lost: the run goes on once it is rebuilt. */
  private interrupted = false;

  /**
   * Whether a failed step keeps the run (the worker is replacing a lost GPU device and will call
   * recoverRun) instead of ending it with an error.
   */
  keepRunAfter: (err: unknown) => boolean | Promise<boolean> = () => false;

  constructor(
    private readonly post: Post,
    private readonly defer: Defer,
    private readonly now: () => number = () => performance.now(),
    private readonly minFrameIntervalMs = MIN_FRAME_INTERVAL_MS,
  ) {}

  /** A new model ends any run on the old one. The caller disposes the old model afterwards. */
  setModel(model: RunModel): Promise<void> {
    return this.serial(() => this.setModelNow(model));
  }

  private setModelNow(model: RunModel): void {
    this.cancelNow();
    this.model = model;
    this.timedModel = { ...model, denoiser: this.timed(model.denoiser) };
  }

  get hasModel(): boolean {
    return this.model !== null;
  }

  plan(settings: PlanSettings): SchedulePlan {
    if (!this.model) throw new Error('No model is loaded yet');
    return buildSchedulePlan(this.model.scheduleConfig, settings);
  }

  /** Runs `command` after every command before it has finished. */
  private serial<T>(command: () => T | Promise<T>): Promise<T> {
    const result = this.queue.then(command);
    this.queue = result.catch(() => undefined);
    return result;
  }

  start(runId: number, settings: RunSettings, autoplay: boolean): Promise<void> {
    return this.serial(() => this.startNow(runId, settings, autoplay));
  }

  pause(): Promise<void> {
    return this.serial(() => this.pauseNow());
  }

  resume(): Promise<void> {
    return this.serial(() => this.resumeNow());
  }

  step(): Promise<void> {
    return this.serial(() => this.stepNow());
  }

  stepBack(): Promise<void> {
    return this.serial(() => this.stepBackNow());
  }

  cancel(): Promise<void> {
    return this.serial(() => this.cancelNow());
  }

  update(patch: RunPatch): Promise<void> {
    return this.serial(() => this.updateNow(patch));
  }

  /** Resolves once every command sent so far has run (tests). */
  settled(): Promise<void> {
    return this.serial(() => undefined);
  }

  private async startNow(runId: number, settings: RunSettings, autoplay: boolean): Promise<void> {
    this.disposeRun();
    this.runId = runId;
    if (!this.timedModel) throw new Error('No model is loaded yet');
    try {
      const mapped = await settingsForModel(settings, this.timedModel);
      this.run = new DiffusionRun(this.runModelFor(mapped.settings), mapped.settings);
    } catch (err) {
      this.setState('idle');
      throw err;
    }
    this.index = 0;
    const plan = this.plan(settings);
    this.post({ type: 'runPlanChanged', runId, plan });
    const first = await this.initialFrame(plan);
    this.path = [first];
    this.send(first);
    this.setState(this.run.done ? 'done' : autoplay ? 'running' : 'paused');
    this.scheduleLoop();
  }

  private pauseNow(): void {
    if (this.state !== 'running') return;
    this.flushPending('pause');
    this.setState('paused');
  }

  private resumeNow(): void {
    if (this.state !== 'paused') return;
    this.setState('running');
    this.scheduleLoop();
  }

  /** Exactly one step, and its frame is always posted; a running run pauses first. */
  private async stepNow(): Promise<void> {
    if (!this.run || this.run.done) return;
    if (this.state === 'running') this.pauseNow();
    this.send(await this.advance('step'));
    this.setState(this.run.done ? 'done' : 'paused');
  }

  /** Exactly one step back; the restored state's frame (kept from the way forward) is posted. */
  private stepBackNow(): void {
    if (!this.run) return;
    if (this.state === 'running') this.pauseNow();
    if (this.path.length < 2 || !this.run.stepBack()) {
      this.setState(this.state);
      return;
    }
    this.path.pop();
    this.index--;
    const back = { ...this.path[this.path.length - 1], index: this.index };
    this.path[this.path.length - 1] = back;
    this.pending = null;
    const { numTensors, numBytes } = tf.memory();
    this.send({ ...back, numTensors, numBytes }, 'back');
    this.setState('paused');
  }

  private cancelNow(): void {
    const hadRun = this.run !== null;
    this.disposeRun();
    if (hadRun) this.setState('idle');
  }

  /** Guidance, eta, class, prompt and mask act at the next step; sampler/steps/schedule re-plan. */
  private async updateNow(patch: RunPatch): Promise<void> {
    const run = this.run;
    if (!run || !this.timedModel) return;
    const wasDone = run.done;
    run.update((await settingsForModel(patch, this.timedModel, run.currentSettings)).settings);
    // DiffusionRun re-plans exactly when these keys are present and the run is not finished.
    if (!needsReplan(patch, run.currentSettings.sampler) || wasDone) {
      // Resampling turned down at the plan's end, with only a jump back left: nothing to do.
      if (!wasDone && run.done) {
        this.flushPending('final');
        this.setState('done');
      }
      return;
    }
    const after = run.position;
    this.post({ type: 'runPlanChanged', runId: this.runId, plan: this.plan(run.currentSettings) });
    // The run cannot step back past a re-plan (its snapshots belong to the old plan): the path
    // restarts here, with the current image renumbered in the new plan.
    const last = this.pending ?? this.path[this.path.length - 1];
    const renumbered = { ...last, step: after.planIndex, totalSteps: after.total };
    this.path = [renumbered];
    this.pending = null;
    this.send(renumbered, 'update');
    if (run.done && this.state !== 'idle') this.setState('done');
    else this.setState(this.state);
  }

  /**
   * After the backend lost its GPU device: frees the run's tensors, lets `replace` start a new
   * backend and rebuild the model, then continues from the newest step the CPU still holds (else
   * from the start, same settings and seeds). A run that was going continues by itself.
   * Resolves to the step it continues from, or null when there was no run.
   */
  recoverRun(replace: () => Promise<void>): Promise<{ step: number; restarted: boolean } | null> {
    return this.serial(async () => {
      const run = this.run;
      const wasRunning = this.state === 'running' || this.interrupted;
      this.interrupted = false;
      const saved = run?.releaseTensors() ?? null;
      try {
        await replace();
      } catch (err) {
        if (run) {
          this.disposeRun();
          this.setState('idle');
        }
        throw err;
      }
      if (!run) return null;
      let restarted = false;
      if (saved) {
        run.resumeOnBackend(saved);
        // A step undone because its result was lost has posted no frame, unless the sample was
        // replaced after it (a re-plan): then that one frame is dropped. At most one, since with
        // resampling jumps the step numbers along the path are not monotonic.
        const last = this.path[this.path.length - 1];
        if (saved.undone && this.path.length > 1 && last.step !== saved.planIndex) {
          this.path.pop();
          this.index--;
        }
        this.pending = null;
        this.send({ ...this.path[this.path.length - 1], index: this.index }, 'back');
      } else {
        restarted = true;
        run.dispose();
        this.run = new DiffusionRun(this.runModelFor(run.currentSettings), run.currentSettings);
        this.index = 0;
        const first = await this.initialFrame(this.plan(run.currentSettings));
        this.path = [first];
        this.send(first);
      }
      const step = this.path[this.path.length - 1].step;
      this.setState(this.run!.done ? 'done' : wasRunning ? 'running' : 'paused');
      this.scheduleLoop();
      return { step, restarted };
    });
  }

  /** The model a run with these settings uses: seen through windows when it outpaints. */
  private runModelFor(settings: RunSettings): RunModel {
    const model = this.timedModel;
    if (!model) throw new Error('No model is loaded yet');
    return settings.outpaint ? windowedRunModel(model, settings.outpaint) : model;
  }

  /** [height, width, channels] of the current run's images: the canvas when it outpaints. */
  private runImageShape(): readonly [number, number, number] {
    const space = this.model!.latentSpace;
    if (space) return space.pixelShape;
    const [height, width, channels] = this.model!.denoiser.imageShape;
    const canvas = this.run?.currentSettings.outpaint;
    return canvas ? [canvas.height, canvas.width, channels] : [height, width, channels];
  }

  private timed(inner: DenoiseModel): DenoiseModel {
    return {
      predictionType: inner.predictionType,
      nullClass: inner.nullClass,
      imageShape: inner.imageShape,
      predict: (x, timesteps, classes) => {
        const t0 = this.now();
        try {
          return inner.predict(x, timesteps, classes);
        } finally {
          this.modelMs += this.now() - t0;
        }
      },
    };
  }

  private scheduleLoop(): void {
    if (this.loopScheduled || this.state !== 'running') return;
    this.loopScheduled = true;
    this.defer(() => {
      this.loopScheduled = false;
      void this.serial(() => this.tick());
    });
  }

  private async tick(): Promise<void> {
    const run = this.run;
    if (this.state !== 'running' || !run) return;
    let frame: FrameData;
    try {
      frame = await this.advance('run');
    } catch (err) {
      if (await this.keepRunAfter(err)) {
        this.interrupted = true;
        this.flushPending('pause');
        this.setState('paused');
        return;
      }
      this.disposeRun();
      this.setState('idle');
      this.post({
        type: 'error',
        context: 'running the model',
        message: (err as Error).message ?? String(err),
      });
      return;
    }
    if (run.done) {
      this.pending = null;
      this.send(frame, 'final');
      this.setState('done');
      return;
    }
    if (this.now() - this.lastPostAt >= this.minFrameIntervalMs) this.send(frame);
    else this.pending = frame;
    this.scheduleLoop();
  }

  private async advance(cause: FrameCause): Promise<FrameData> {
    const run = this.run;
    if (!run) throw new Error('No run');
    const t0 = this.now();
    this.modelMs = 0;
    const stepFrame = await run.stepAsync();
    this.index++;
    const frame = await this.encode(stepFrame, t0, cause);
    this.path.push(frame);
    return frame;
  }

  private async encode(f: StepFrame, t0: number, cause: FrameCause): Promise<FrameData> {
    const settings = this.run!.currentSettings;
    const buffer = (bytes: Uint8Array) => bytes.buffer as ArrayBuffer;
    const space = this.model!.latentSpace;
    if (space) {
      // The latents themselves are shown as a grid; x_t and x_0 through the VAE decoder.
      const batch = settings.seeds.length;
      const grid = (v: Float32Array) =>
        latentGridImage(v, batch, space.latentShape, space.pixelShape);
      const latent = buffer(imageToBytes(grid(f.sample)));
      const noise = buffer(noiseToBytes(grid(f.predictedNoise)));
      const [sample, predictedX0] = await decodeLatents(space, batch, [f.sample, f.predictedX0]);
      return { ...this.frameOf({ ...f, sample, predictedX0 }, t0, cause, noise), latent };
    }
    return this.frameOf(f, t0, cause, buffer(noiseToBytes(f.predictedNoise)));
  }

  private frameOf(f: StepFrame, t0: number, cause: FrameCause, noise: ArrayBuffer): FrameData {
    const settings = this.run!.currentSettings;
    const [height, width, channels] = this.runImageShape();
    const buffer = (bytes: Uint8Array) => bytes.buffer as ArrayBuffer;
    return {
      runId: this.runId,
      index: this.index,
      step: f.step,
      totalSteps: f.totalSteps,
      timestep: f.timestep,
      sigma: f.sigma,
      batch: settings.seeds.length,
      height,
      width,
      channels,
      sample: buffer(imageToBytes(f.sample)),
      predictedX0: buffer(imageToBytes(f.predictedX0)),
      predictedNoise: noise,
      modelMs: this.modelMs,
      totalMs: this.now() - t0,
      numTensors: tf.memory().numTensors,
      numBytes: tf.memory().numBytes,
      cause,
    };
  }

  /** The starting point (noise, or the noised source for img2img): no prediction yet. */
  private async initialFrame(plan: SchedulePlan): Promise<FrameData> {
    const run = this.run!;
    const { planIndex, total } = run.position;
    const timestep = plan.timesteps[Math.min(planIndex, total - 1)] ?? 0;
    const sigma =
      planIndex >= total
        ? 0
        : plan.sigmas
          ? plan.sigmas[planIndex]
          : sigmaAtTimestep(this.model!.scheduleConfig as unknown as NoiseScheduleConfig, timestep);
    const [height, width, channels] = this.runImageShape();
    const start = await run.displaySampleAsync();
    const space = this.model!.latentSpace;
    const batch = run.currentSettings.seeds.length;
    const shown = space ? (await decodeLatents(space, batch, [start]))[0] : start;
    return {
      runId: this.runId,
      index: 0,
      step: planIndex,
      totalSteps: total,
      timestep,
      sigma,
      batch: run.currentSettings.seeds.length,
      height,
      width,
      channels,
      sample: imageToBytes(shown).buffer as ArrayBuffer,
      predictedX0: null,
      predictedNoise: null,
      ...(space && {
        latent: imageToBytes(latentGridImage(start, batch, space.latentShape, space.pixelShape))
          .buffer as ArrayBuffer,
      }),
      modelMs: 0,
      totalMs: 0,
      numTensors: tf.memory().numTensors,
      numBytes: tf.memory().numBytes,
      cause: 'start',
    };
  }

  /** Posts a copy (the kept frame stays usable for Step back) and transfers the copy's buffers. */
  private send(frame: FrameData, cause: FrameCause = frame.cause): void {
    const copy = (b: ArrayBuffer | null) => (b ? b.slice(0) : null);
    const message: FromWorker = {
      ...frame,
      type: 'frame',
      cause,
      sample: frame.sample.slice(0),
      predictedX0: copy(frame.predictedX0),
      predictedNoise: copy(frame.predictedNoise),
      ...(frame.latent !== undefined && { latent: copy(frame.latent) }),
    };
    const views = [message.sample, message.predictedX0, message.predictedNoise, message.latent];
    // A frame without a latent view has `latent` undefined: only real buffers are transferred.
    const transfer = views.filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
    this.post(message, transfer);
    this.lastPostAt = this.now();
    if (this.pending === frame) this.pending = null;
  }

  private flushPending(cause: FrameCause): void {
    if (this.pending) this.send(this.pending, cause);
    this.pending = null;
  }

  private setState(state: RunState): void {
    this.state = state;
    this.post({
      type: 'runState',
      runId: this.runId,
      state,
      canStepBack: this.run !== null && this.path.length > 1,
    });
  }

  private disposeRun(): void {
    this.run?.dispose();
    this.run = null;
    this.path = [];
    this.pending = null;
    this.state = 'idle';
    this.interrupted = false;
  }
}
