// The class-conditional U-Net of training/unet.py in tfjs-core, NHWC. Built from a card and its
// weights file; predict() gives the model output (epsilon or v, see card.prediction_type).
import * as tf from '@tensorflow/tfjs-core';
import type { ModelCard, UNetConfig } from './card';
import { planUNet, type AttentionSpec, type ResBlockSpec, type UNetPlan } from './architecture';
import { timestepFeatures } from './embedding';
import {
  attention,
  attentionCore,
  conv,
  convFilterFromTorch,
  downsampleConv,
  groupNorm,
  linear,
  linearWeightFromTorch,
  silu,
  upsampleNearest2x,
  type AttentionParams,
  type ConvParams,
  type LinearParams,
  type NormParams,
} from './layers';
import { decodeWeights, type DecodeOptions, type HostTensor } from './weights';
import {
  fusedAttention,
  fusedGroupNorm,
  fusedGroupNormAvailable,
  prepareWasmKernels,
  wasmKernelsReady,
} from '../kernels';

export type Timesteps = number | ArrayLike<number> | tf.Tensor1D;

/** The parameters as tfjs tensors in tfjs layouts, looked up by their PyTorch names. */
export class Parameters {
  private readonly tensors: tf.Tensor[] = [];

  constructor(private readonly host: Map<string, HostTensor>) {}

  private keep<T extends tf.Tensor>(t: T): T {
    this.tensors.push(t);
    return t;
  }

  private get(name: string): HostTensor {
    const t = this.host.get(name);
    if (!t) throw new Error(`internal: parameter ${name} was not decoded`);
    return t;
  }

  vector(name: string): tf.Tensor1D {
    return this.keep(tf.tensor1d(this.get(name).values));
  }

  matrix(name: string): tf.Tensor2D {
    const { shape, values } = this.get(name);
    return this.keep(tf.tensor2d(values, [shape[0], shape[1]]));
  }

  conv(prefix: string): ConvParams {
    return {
      filter: this.keep(convFilterFromTorch(this.get(`${prefix}.weight`))),
      bias: this.vector(`${prefix}.bias`),
    };
  }

  linear(prefix: string): LinearParams {
    return {
      weight: this.keep(linearWeightFromTorch(this.get(`${prefix}.weight`))),
      bias: this.vector(`${prefix}.bias`),
    };
  }

  norm(prefix: string): NormParams {
    return { gamma: this.vector(`${prefix}.weight`), beta: this.vector(`${prefix}.bias`) };
  }

  dispose(): void {
    tf.dispose(this.tensors);
    this.tensors.length = 0;
  }
}

interface ResBlockParams {
  norm1: NormParams;
  conv1: ConvParams;
  embProj: LinearParams;
  norm2: NormParams;
  conv2: ConvParams;
  skip: ConvParams | null;
}

interface LevelParams {
  blocks: ResBlockParams[];
  attentions: AttentionParams[];
  resample: ConvParams | null;
}

export class UNet {
  readonly card: ModelCard;
  readonly config: UNetConfig;
  readonly plan: UNetPlan;
  private readonly params: Parameters;
  private readonly timeMlp: [LinearParams, LinearParams];
  private readonly classEmbed: tf.Tensor2D;
  private readonly convIn: ConvParams;
  private readonly down: LevelParams[];
  private readonly mid: [ResBlockParams, AttentionParams | null, ResBlockParams];
  private readonly up: LevelParams[];
  private readonly outNorm: NormParams;
  private readonly convOut: ConvParams;
  private disposed = false;

  constructor(card: ModelCard, host: Map<string, HostTensor>) {
    this.card = card;
    this.config = card.architecture;
    this.plan = planUNet(this.config);
    const p = (this.params = new Parameters(host));
    const block = (s: ResBlockSpec): ResBlockParams => ({
      norm1: p.norm(`${s.prefix}.norm1`),
      conv1: p.conv(`${s.prefix}.conv1`),
      embProj: p.linear(`${s.prefix}.emb_proj`),
      norm2: p.norm(`${s.prefix}.norm2`),
      conv2: p.conv(`${s.prefix}.conv2`),
      skip: s.inChannels !== s.outChannels ? p.conv(`${s.prefix}.skip`) : null,
    });
    const attn = (s: AttentionSpec): AttentionParams => ({
      norm: p.norm(`${s.prefix}.norm`),
      qkv: p.linear(`${s.prefix}.qkv`),
      proj: p.linear(`${s.prefix}.proj`),
    });
    const level = (s: UNetPlan['down'][number]): LevelParams => ({
      blocks: s.blocks.map(block),
      attentions: s.attentions.map(attn),
      resample: s.resample ? p.conv(s.resample.prefix) : null,
    });
    this.timeMlp = [p.linear('time_mlp.0'), p.linear('time_mlp.2')];
    this.classEmbed = p.matrix('class_embed.weight');
    this.convIn = p.conv('conv_in');
    this.down = this.plan.down.map(level);
    this.mid = [
      block(this.plan.midBlock1),
      this.plan.midAttention ? attn(this.plan.midAttention) : null,
      block(this.plan.midBlock2),
    ];
    this.up = this.plan.up.map(level);
    this.outNorm = p.norm('out_norm');
    this.convOut = p.conv('conv_out');
  }

  /** Class id that means "no class": the unconditional branch of classifier-free guidance. */
  get nullClassId(): number {
    return this.config.null_class_id;
  }

  /**
   * Model output for noisy images x [B, H, W, C] (NHWC, pixels in [-1, 1] at t = 0), timesteps t
   * (one per sample, or one for all; fractional allowed) and class ids (nullClassId = none).
   * Returns a new tensor [B, H, W, C] the caller disposes.
   */
  predict(x: tf.Tensor4D, t: Timesteps, classes: ArrayLike<number>): tf.Tensor4D {
    if (this.disposed) throw new Error('UNet.predict called after dispose()');
    const [b, h, w, c] = x.shape;
    const size = this.config.image_size;
    if (h !== size || w !== size || c !== this.config.in_channels) {
      throw new Error(
        `UNet input must be [B, ${size}, ${size}, ${this.config.in_channels}], got [${x.shape}]`,
      );
    }
    const timesteps = this.timestepsFor(t, b);
    const classIds = this.classIdsFor(classes, b);
    return tf.tidy(() => this.forward(x, timesteps, classIds));
  }

  private timestepsFor(t: Timesteps, batch: number): Float64Array {
    // Sync read for a tensor: the features are computed on the host in double precision.
    const values = typeof t === 'number' ? [t] : t instanceof tf.Tensor ? t.dataSync() : t;
    if (values.length !== 1 && values.length !== batch) {
      throw new Error(`UNet got ${values.length} timesteps for a batch of ${batch}`);
    }
    const out = new Float64Array(batch);
    for (let i = 0; i < batch; i++) {
      out[i] = values.length === 1 ? values[0] : values[i];
      if (!Number.isFinite(out[i])) throw new Error(`UNet timestep ${i} is ${out[i]}`);
    }
    return out;
  }

  private classIdsFor(classes: ArrayLike<number>, batch: number): Int32Array {
    if (classes.length !== batch) {
      throw new Error(`UNet got ${classes.length} class ids for a batch of ${batch}`);
    }
    const ids = Int32Array.from(classes);
    ids.forEach((id, i) => {
      if (id !== classes[i] || id < 0 || id > this.nullClassId) {
        throw new Error(
          `UNet class id ${classes[i]} is not an integer in [0, ${this.nullClassId}] ` +
            `(${this.nullClassId} = no class)`,
        );
      }
    });
    return ids;
  }

  /** emb = MLP(sinusoidal(t)) + class_embed[y], [B, embed_dim]. */
  private embed(timesteps: Float64Array, classIds: Int32Array): tf.Tensor2D {
    const { timestep_features: dim, timestep_max_period: period } = this.config;
    const features = tf.tensor2d(timestepFeatures(timesteps, dim, period), [timesteps.length, dim]);
    const [fc1, fc2] = this.timeMlp;
    const time = linear(silu(linear(features, fc1)), fc2);
    return tf.add(time, tf.gather(this.classEmbed, tf.tensor1d(classIds, 'int32')));
  }

  /**
   * act(GroupNorm(x + add)), add [B, C] per image and channel (the time embedding). On wasm and
   * WebGPU one fused kernel (src/engine/kernels); elsewhere, or where it cannot run, the tfjs
   * ops, which give the same numbers.
   */
  private normalise(
    x: tf.Tensor4D,
    p: NormParams,
    withSilu: boolean,
    add?: tf.Tensor2D,
  ): tf.Tensor4D {
    const { groupnorm_groups: groups, groupnorm_eps: eps } = this.config;
    if (fusedGroupNormAvailable()) {
      return fusedGroupNorm(x, p.gamma, p.beta, { groups, eps, silu: withSilu }, add);
    }
    const [b, , , c] = x.shape;
    const normed = groupNorm(add ? tf.add(x, tf.reshape(add, [b, 1, 1, c])) : x, p, groups, eps);
    return withSilu ? silu(normed) : normed;
  }

  private resBlock(x: tf.Tensor4D, siluEmb: tf.Tensor2D, p: ResBlockParams): tf.Tensor4D {
    const h = conv(this.normalise(x, p.norm1, true), p.conv1);
    const emb = linear(siluEmb, p.embProj); // added to h before norm2, as h + emb[:, :, None, None]
    const out = conv(this.normalise(h, p.norm2, true, emb), p.conv2); // dropout: identity
    return tf.add(out, p.skip ? conv(x, p.skip) : x);
  }

  /** Self-attention; on wasm its core (scores, softmax, mixing) is one fused kernel. */
  private attention(x: tf.Tensor4D, p: AttentionParams): tf.Tensor4D {
    const heads = this.config.attention_heads;
    const norm = (z: tf.Tensor4D, n: NormParams) => this.normalise(z, n, false);
    return attention(x, p, heads, norm, wasmKernelsReady() ? fusedAttention : attentionCore);
  }

  private forward(x: tf.Tensor4D, timesteps: Float64Array, classIds: Int32Array): tf.Tensor4D {
    // SiLU(emb) is what every ResBlock's projection reads; compute it once.
    const siluEmb = silu(this.embed(timesteps, classIds));
    let h = conv(x, this.convIn);
    const skips: tf.Tensor4D[] = [h];
    for (const level of this.down) {
      level.blocks.forEach((block, j) => {
        h = this.resBlock(h, siluEmb, block);
        if (level.attentions.length) h = this.attention(h, level.attentions[j]);
        skips.push(h);
      });
      if (level.resample) {
        h = downsampleConv(h, level.resample);
        skips.push(h);
      }
    }
    const [midBlock1, midAttention, midBlock2] = this.mid;
    h = this.resBlock(h, siluEmb, midBlock1);
    if (midAttention) h = this.attention(h, midAttention);
    h = this.resBlock(h, siluEmb, midBlock2);
    for (const level of this.up) {
      level.blocks.forEach((block, j) => {
        const skip = skips.pop() as tf.Tensor4D;
        h = this.resBlock(tf.concat([h, skip], 3), siluEmb, block);
        if (level.attentions.length) h = this.attention(h, level.attentions[j]);
      });
      if (level.resample) h = conv(upsampleNearest2x(h), level.resample);
    }
    return conv(this.normalise(h, this.outNorm, true), this.convOut);
  }

  dispose(): void {
    this.params.dispose();
    this.disposed = true;
  }
}

/** Validates the weights against the card (sizes, sha256, shapes, finite values) and builds the net. */
export async function loadUNet(
  card: ModelCard,
  weights: ArrayBuffer,
  options: DecodeOptions = {},
): Promise<UNet> {
  const host = await decodeWeights(card, weights, options);
  await prepareWasmKernels(); // on wasm; a no-op elsewhere
  return new UNet(card, host);
}
