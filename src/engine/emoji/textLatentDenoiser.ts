// The latent U-Net as the samplers see it (DenoiseModel). Conditioning is data the denoiser
// carries: it holds the prompt's encoding and the negative (unconditional) one, and reads the
// run's class ids as which of the two each image gets, so classifier-free guidance
// (guidedModelOutput) and every sampler work unchanged:
//   class 0         = the prompt
//   nullClass (= 1) = the negative prompt (the empty prompt unless one is set)
import * as tf from '@tensorflow/tfjs-core';
import type { DenoiseModel } from '../denoiser';
import type { LatentUNet, PreparedContext } from './latentUnet';

export const PROMPT_CLASS = 0;
export const NEGATIVE_CLASS = 1;

export class TextLatentDenoiser implements DenoiseModel {
  readonly predictionType: 'epsilon' | 'v_prediction';
  readonly nullClass = NEGATIVE_CLASS;
  readonly imageShape: readonly [number, number, number];
  /** [2, L, D]: row 0 the prompt's encoding, row 1 the negative prompt's. */
  private contexts: tf.Tensor3D;
  /** The two rows through every cross-attention's keys and values, once per prompt. */
  private prepared: PreparedContext;

  /** `empty`: the empty prompt's encoding [1, L, D], both rows until setPrompt. Copied. */
  constructor(
    private readonly unet: LatentUNet,
    predictionType: 'epsilon' | 'v_prediction',
    empty: tf.Tensor3D,
  ) {
    this.predictionType = predictionType;
    const { sample_size: s, in_channels: c } = unet.config;
    this.imageShape = [s, s, c];
    this.contexts = tf.keep(tf.concat([empty, empty]));
    this.prepared = unet.prepareContext(this.contexts);
  }

  /**
   * Replaces the conditioning (allowed between any two steps of a run): `cond` the prompt's
   * encoding, `uncond` the negative prompt's, each [1, L, D]. Copied; the caller keeps its own.
   */
  setPrompt(cond: tf.Tensor3D, uncond: tf.Tensor3D): void {
    const [, length, dim] = this.contexts.shape;
    for (const [what, t] of [
      ['prompt', cond],
      ['negative prompt', uncond],
    ] as const) {
      if (t.rank !== 3 || t.shape[0] !== 1 || t.shape[1] !== length || t.shape[2] !== dim) {
        throw new Error(`The ${what} encoding must be [1, ${length}, ${dim}], got [${t.shape}]`);
      }
    }
    const next = tf.keep(tf.concat([cond, uncond]));
    const prepared = this.unet.prepareContext(next);
    this.prepared.dispose();
    this.contexts.dispose();
    this.contexts = next;
    this.prepared = prepared;
  }

  predict(x: tf.Tensor4D, timesteps: number[], classes: number[]): tf.Tensor4D {
    if (classes.length !== x.shape[0]) {
      throw new Error(`Got ${classes.length} class ids for a batch of ${x.shape[0]}`);
    }
    classes.forEach((r) => {
      if (r !== PROMPT_CLASS && r !== NEGATIVE_CLASS) {
        throw new Error(
          `Class id ${r} means nothing to a text model (0 = prompt, 1 = negative prompt)`,
        );
      }
    });
    return this.unet.predictPrepared(x, timesteps, this.prepared, classes);
  }

  /** The encodings now in use, [2, L, D] (row 0 prompt, row 1 negative); owned by the denoiser. */
  get contextRows(): tf.Tensor3D {
    return this.contexts;
  }

  dispose(): void {
    this.prepared.dispose();
    this.contexts.dispose();
  }
}
