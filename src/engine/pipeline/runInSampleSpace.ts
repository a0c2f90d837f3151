// Run settings as a person gives them (pixels, a mask over pixels, a prompt) turned into what the
// run denoises: for a latent pipeline the source is encoded and the mask shrunk to the latent grid;
// for a text pipeline the prompt is handed to the denoiser and every image asks for it (class 0).
import * as tf from '@tensorflow/tfjs-core';
import type { RunModel } from '../run/diffusionRun';
import { readBack } from '../run/readBack';
import type { RunSettings } from '../run/settings';
import { maskToLatentGrid, type LatentSpace, type PromptReport } from './sampleSpace';

/** The class id a text-conditioned denoiser reads as "the prompt" (its nullClass is the negative). */
export const PROMPT_CLASS = 0;

async function encodeSource(space: LatentSpace, pixels: Float32Array): Promise<Float32Array> {
  const [h, w, c] = space.pixelShape;
  if (pixels.length !== h * w * c) {
    throw new Error(`The source image has ${pixels.length} values, the model needs ${h * w * c}`);
  }
  const latents = tf.tidy(() => space.encode(tf.tensor4d(pixels, [1, h, w, c])));
  try {
    return (await readBack([latents]))[0];
  } finally {
    latents.dispose();
  }
}

/** `settings` (or a patch of them) with source and mask moved into the latent space. */
export async function sourcesInLatentSpace<T extends Partial<RunSettings>>(
  settings: T,
  space: LatentSpace,
): Promise<T> {
  const out: T = { ...settings };
  if (settings.inpaint) {
    if (settings.outpaint) throw new Error('Outpainting is not available for latent pipelines yet');
    out.inpaint = {
      pixels: await encodeSource(space, settings.inpaint.pixels),
      mask: maskToLatentGrid(settings.inpaint.mask, space.pixelShape, space.latentShape),
    };
  }
  if (settings.img2img) {
    out.img2img = {
      pixels: await encodeSource(space, settings.img2img.pixels),
      strength: settings.img2img.strength,
    };
  }
  return out;
}

/**
 * Settings (or a patch of the run's `current` settings) as the run needs them on `model`. Returns
 * the prompt reports when the prompt was (re)set, so the caller can say which words were ignored.
 */
export async function settingsForModel<T extends Partial<RunSettings>>(
  settings: T,
  model: RunModel,
  current?: RunSettings,
): Promise<{ settings: T; prompt: { prompt: PromptReport; negative: PromptReport } | null }> {
  let out: T = settings;
  let prompt = null;
  if (model.textConditioner) {
    out = { ...out };
    if (out.classes) out.classes = out.classes.map(() => PROMPT_CLASS);
    if (!current || out.prompt !== undefined || out.negativePrompt !== undefined) {
      prompt = model.textConditioner.setPrompt(
        out.prompt ?? current?.prompt ?? '',
        out.negativePrompt ?? current?.negativePrompt ?? '',
      );
    }
  }
  if (model.latentSpace) out = await sourcesInLatentSpace(out, model.latentSpace);
  return { settings: out, prompt };
}
