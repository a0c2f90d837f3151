// Loads a pipeline folder (diffusers' layout: model_index.json, a folder per component) into the
// worker as the same LoadedWorkerModel a class U-Net gives, so the run, the controls and recovery
// from a lost GPU device treat both alike. Download progress counts the bytes of every file
// against the weights' total from the card.
import * as tf from '@tensorflow/tfjs-core';
import { loadEmojiPipeline, type EmojiPipeline } from '../engine/emoji/pipeline';
import { PIPELINE_CARD_FORMAT } from '../engine/emoji/pipelineCard';
import type { ClassifierSlot, RunModel } from '../engine/run/diffusionRun';
import { cachingFetch, pipelineWeightFiles } from './cachingFetch';
import type { LoadedWorkerModel, Progress } from './modelLoader';
import { openWeightsCache } from './weightsCache';

export function isPipelineCard(json: unknown): boolean {
  return (
    typeof json === 'object' &&
    json !== null &&
    (json as Record<string, unknown>).format === PIPELINE_CARD_FORMAT
  );
}

/** The weights' bytes the card lists (the JSON files are small next to them). */
function weightBytes(card: unknown): number | null {
  const components = (
    card as { components?: Record<string, { weights?: { byte_length?: unknown } }> }
  ).components;
  if (!components) return null;
  let total = 0;
  for (const c of Object.values(components)) {
    const n = c.weights?.byte_length;
    if (typeof n === 'number' && Number.isFinite(n) && n > 0) total += n;
  }
  return total > 0 ? total : null;
}

/** fetch, counting the bytes of every body as it is read. */
function countingFetch(onBytes: (n: number) => void): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (!response.body) return response;
    const counted = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          onBytes(chunk.byteLength);
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

const NO_CLASSIFIER: ClassifierSlot = {
  guide: null,
  problem:
    'the emoji pipeline has no noisy-image classifier (classifier guidance needs classes; use the ' +
    'prompt and the guidance scale instead)',
};

function runModelOf(p: EmojiPipeline): RunModel {
  return {
    ...p.runModel,
    classifier: NO_CLASSIFIER,
    latentSpace: {
      latentShape: p.latentShape,
      pixelShape: p.pixelShape,
      decode: (latents) => p.decode(latents),
      encode: (pixels) => p.encode(pixels),
    },
    textConditioner: { setPrompt: (prompt, negative) => p.setPrompt(prompt, negative) },
  };
}

export async function loadWorkerPipeline(
  id: string,
  base: string,
  card: unknown,
  onProgress: Progress,
): Promise<LoadedWorkerModel> {
  const total = weightBytes(card);
  let loaded = 0;
  const fetchCounted = countingFetch((n) => {
    loaded += n;
    onProgress(Math.min(loaded, total ?? loaded), total);
  });
  // Weight files with the card's sha256 come from the weights cache; downloads are stored
  // there once the whole pipeline has loaded and passed its checks.
  const files = pipelineWeightFiles(card, base);
  const cached = cachingFetch(await openWeightsCache(), fetchCounted, files);
  let pipeline = await loadEmojiPipeline(base, cached.fetch);
  await cached.storeVerified();
  if (total !== null) onProgress(total, total);
  let current = runModelOf(pipeline);
  // The run keeps this object for its whole life; rebuild() swaps the pipeline underneath it.
  const runModel: RunModel = {
    ...current,
    denoiser: {
      predictionType: current.denoiser.predictionType,
      nullClass: current.denoiser.nullClass,
      imageShape: current.denoiser.imageShape,
      predict: (x, timesteps, classes) => current.denoiser.predict(x, timesteps, classes),
    },
    latentSpace: {
      latentShape: pipeline.latentShape,
      pixelShape: pipeline.pixelShape,
      decode: (latents) => current.latentSpace!.decode(latents),
      encode: (pixels) => current.latentSpace!.encode(pixels),
    },
    textConditioner: {
      setPrompt: (prompt, negative) => current.textConditioner!.setPrompt(prompt, negative),
    },
  };
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    try {
      pipeline.dispose();
    } catch {
      // The backend that held the tensors is already gone: nothing is left to free.
    }
  };
  const c = pipeline.card;
  const parameterCount = ['unet', 'text_encoder', 'vae'].reduce((sum, name) => {
    const n = (c.components as Record<string, { parameter_count?: unknown }>)[name]
      ?.parameter_count;
    return sum + (typeof n === 'number' ? n : 0);
  }, 0);
  const schedule = pipeline.scheduleConfig;
  const [size, , channels] = pipeline.pixelShape;
  return {
    runModel,
    releaseTensors: release,
    async rebuild() {
      release();
      // The files come again from the HTTP cache; the prompt is set again by the next run.
      pipeline = await loadEmojiPipeline(base);
      current = runModelOf(pipeline);
      released = false;
    },
    async warmUp(batch: number) {
      const t0 = performance.now();
      const [h, w, ch] = pipeline.latentShape;
      const out = tf.tidy(() => {
        const x = tf.zeros([batch, h, w, ch]) as tf.Tensor4D;
        const eps = runModel.denoiser.predict(
          x,
          new Array<number>(batch).fill(500),
          new Array<number>(batch).fill(1),
        );
        return pipeline.decode(eps);
      });
      try {
        await out.data();
      } finally {
        out.dispose();
      }
      return performance.now() - t0;
    },
    loadClassifier: () => Promise.resolve(NO_CLASSIFIER),
    dispose: release,
    info: {
      id,
      name: c.name,
      classLabels: [],
      nullClassId: pipeline.denoiser.nullClass,
      imageSize: size,
      channels,
      parameterCount,
      conditioning: 'text',
      vocabulary: [...pipeline.tokenizer.vocab],
      maxPromptTokens: pipeline.tokenizer.maxLength,
      latentShape: [...pipeline.latentShape] as [number, number, number],
      schedule: {
        num_train_timesteps: Number(schedule.num_train_timesteps),
        beta_schedule: String(schedule.beta_schedule),
        beta_start: Number(schedule.beta_start ?? 0.0001),
        beta_end: Number(schedule.beta_end ?? 0.02),
      },
    },
  };
}
