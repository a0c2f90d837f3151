// A pipeline's sample space (DESIGN: "from one model to pipelines"). A class U-Net denoises pixels;
// a latent pipeline denoises VAE latents, and everything a person gives or sees is pixels: a
// source is encoded, a mask is shrunk to the latent grid, and frames are decoded for display.
import type { Tensor4D } from '@tensorflow/tfjs-core';

/** How pixels map into a latent pipeline's sample space and back. */
export interface LatentSpace {
  /** [height, width, channels] of one latent, e.g. [8, 8, 4]. */
  readonly latentShape: readonly [number, number, number];
  /** [height, width, channels] of one image, e.g. [32, 32, 3]. */
  readonly pixelShape: readonly [number, number, number];
  /** Normalised latents (what the U-Net denoises), NHWC -> pixels NHWC in [-1, 1]. */
  decode(latents: Tensor4D): Tensor4D;
  /** Pixels NHWC in [-1, 1] -> normalised latents (the posterior mean). */
  encode(pixels: Tensor4D): Tensor4D;
}

/** What the tokenizer made of a prompt: the words it dropped, and whether it cut the prompt. */
export interface PromptReport {
  unknown: string[];
  truncated: boolean;
  /** Known words kept. */
  words: number;
}

/** A text-conditioned denoiser's prompt, replaceable between steps (it is re-encoded then). */
export interface TextConditioner {
  setPrompt(
    prompt: string,
    negativePrompt: string,
  ): { prompt: PromptReport; negative: PromptReport };
}

/**
 * The mask on the latent grid: a latent cell is re-imagined as much as the most re-imagined pixel
 * it covers (max pooling), so whatever a person paints changes, however thin the stroke.
 */
export function maskToLatentGrid(
  mask: Float32Array,
  pixelShape: readonly [number, number, number],
  latentShape: readonly [number, number, number],
): Float32Array {
  const [h, w] = pixelShape;
  const [lh, lw] = latentShape;
  if (mask.length !== h * w)
    throw new Error(`The mask has ${mask.length} values, the image ${h}x${w}`);
  if (h % lh !== 0 || w % lw !== 0)
    throw new Error(`${h}x${w} pixels do not tile a ${lh}x${lw} latent`);
  const fy = h / lh;
  const fx = w / lw;
  const out = new Float32Array(lh * lw);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const cell = Math.floor(y / fy) * lw + Math.floor(x / fx);
      out[cell] = Math.max(out[cell], mask[y * w + x]);
    }
  }
  return out;
}

/**
 * A latent batch as a picture the size of the image: each of the (up to 4) channels is one
 * quadrant, a grey map of that channel scaled up, values ±3 (the latents are normalised to unit
 * variance) onto [-1, 1]. Returns NHWC floats in [-1, 1] with the pixel shape.
 */
export function latentGridImage(
  latents: Float32Array,
  batch: number,
  latentShape: readonly [number, number, number],
  pixelShape: readonly [number, number, number],
): Float32Array {
  const [lh, lw, lc] = latentShape;
  const [h, w, c] = pixelShape;
  const cols = lc > 1 ? 2 : 1;
  const rows = Math.ceil(lc / cols);
  const out = new Float32Array(batch * h * w * c).fill(-1);
  const tileH = Math.floor(h / rows);
  const tileW = Math.floor(w / cols);
  for (let b = 0; b < batch; b++) {
    for (let ch = 0; ch < lc; ch++) {
      const oy = Math.floor(ch / cols) * tileH;
      const ox = (ch % cols) * tileW;
      for (let y = 0; y < tileH; y++) {
        const ly = Math.min(lh - 1, Math.floor((y * lh) / tileH));
        for (let x = 0; x < tileW; x++) {
          const lx = Math.min(lw - 1, Math.floor((x * lw) / tileW));
          const v = latents[((b * lh + ly) * lw + lx) * lc + ch] / 3;
          const shown = v < -1 ? -1 : v > 1 ? 1 : v;
          const at = ((b * h + oy + y) * w + ox + x) * c;
          for (let k = 0; k < c; k++) out[at + k] = shown;
        }
      }
    }
  }
  return out;
}
