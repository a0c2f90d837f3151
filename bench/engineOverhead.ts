// What the engine adds around the model per step: the worker's RunController (the same object the
// app's worker runs) stepping a DiffusionRun with DPM++ 2M, classifier-free guidance and an
// inpainting mask, framed for display, against the bare model call on the same (doubled) batch.
// Both are timed alternately, and the frames' own modelMs / totalMs are kept as a second view.
import type { LoadedModel } from '../src/engine/model';
import { runModelFromUNet } from '../src/engine/model';
import type { FromWorker } from '../src/worker/protocol';
import { createDefer } from '../src/worker/defer';
import { RunController } from '../src/worker/runController';
import { modelInput } from './inputs';
import { ourEval } from './ourEval';
import { OVERHEAD_PLAN_STEPS, overheadSettings } from './overheadSettings';
import { interleaved, median, type RoundPlan } from './timing';

export interface OverheadResult {
  images: number;
  modelBatch: number;
  /** Wall time of one RunController step (model + scheduler + guidance + mask + frame). */
  stepMs: number;
  /** Wall time of the bare model call on the doubled batch, upload and read-back included. */
  bareMs: number;
  /** (stepMs - bareMs) / bareMs. */
  overhead: number;
  /** Medians of the frames' own fields over the timed steps. */
  frameModelMs: number;
  frameTotalMs: number;
  /**
   * (totalMs - modelMs) / modelMs from the same steps' frames, where modelMs is the model's real
   * cost: on wasm (kernels run synchronously inside predict). On WebGL/WebGPU predict only queues
   * work, so this is null there and `overhead` is the measure.
   */
  frameOverhead: number | null;
  stepsTimed: number;
}

export async function engineOverhead(
  model: LoadedModel,
  images: number,
  plan: RoundPlan,
  synchronousModel: boolean,
): Promise<OverheadResult> {
  const size = model.card.architecture.image_size;
  const frames: { modelMs: number; totalMs: number }[] = [];
  let stepsLeft = 0;
  let runId = 0;
  // Scheduled as the engine worker schedules its loop (createDefer, not setTimeout's 4 ms clamp).
  const controller = new RunController((message: FromWorker) => {
    if (message.type === 'frame' && message.cause === 'step') frames.push(message);
    if (message.type === 'error') throw new Error(`${message.context}: ${message.message}`);
  }, createDefer());
  await controller.setModel(runModelFromUNet(model.unet, model.card));
  const settings = overheadSettings(images, size);
  const restart = async () => {
    await controller.start(++runId, settings, false);
    stepsLeft = OVERHEAD_PLAN_STEPS;
  };
  await restart();
  const bareInput = modelInput(images, true, size, model.card.null_class_id);
  try {
    const [step, bare] = await interleaved(
      [
        {
          name: 'step',
          // A fresh run before the plan runs out, outside the timed calls.
          prepare: async (calls) => {
            if (stepsLeft < calls) await restart();
          },
          call: async () => {
            await controller.step();
            stepsLeft--;
          },
        },
        { name: 'bare', call: () => ourEval(model, bareInput) },
      ],
      plan,
    );
    // The warm-up steps' frames are not representative (first-order step, compilation).
    const timedFrames = frames.slice(plan.warmup);
    const frameModelMs = median(timedFrames.map((f) => f.modelMs));
    const frameTotalMs = median(timedFrames.map((f) => f.totalMs));
    return {
      images,
      modelBatch: bareInput.batch,
      stepMs: step.msPerCall,
      bareMs: bare.msPerCall,
      overhead: step.msPerCall / bare.msPerCall - 1,
      frameModelMs,
      frameTotalMs,
      frameOverhead: synchronousModel ? frameTotalMs / frameModelMs - 1 : null,
      stepsTimed: timedFrames.length,
    };
  } finally {
    await controller.cancel();
  }
}
