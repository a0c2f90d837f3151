// The emoji latent U-Net of training/emoji/latent_unet.py in tfjs-core, NHWC: diffusers'
// UNet2DConditionModel layout scaled down (CrossAttnDownBlock2D / UNetMidBlock2DCrossAttn /
// CrossAttnUpBlock2D; ResnetBlock2D + Transformer2DModel with self-attention, cross-attention to the
// text tokens and a quick_gelu feed-forward). State-dict names are diffusers'.
import * as tf from '@tensorflow/tfjs-core';
import { timestepFeatures } from '../model/embedding';
import {
  attentionCore,
  conv,
  downsampleConv,
  silu,
  upsampleNearest2x,
  type ConvParams,
  type NormParams,
} from '../model/layers';
import type { HostTensor } from '../model/weights';
import { fusedAttention, wasmKernelsReady } from '../kernels';
import type { LatentUNetConfig } from './config';
import {
  dense,
  layerNorm,
  mergeHeads,
  normalise,
  ParamStore,
  quickGelu,
  scaledDotProduct,
  splitHeads,
  type MaybeBiasedLinear,
} from './nn';

/** Transformer2DModel's GroupNorm eps (diffusers' default there), not the config's norm_eps. */
const TRANSFORMER_NORM_EPS = 1e-6;
/** nn.LayerNorm's default eps, which BasicTransformerBlock uses. */
const LAYER_NORM_EPS = 1e-5;

interface ResnetSpec {
  prefix: string;
  inChannels: number;
  outChannels: number;
}

interface BlockSpec {
  resnets: ResnetSpec[];
  /** Transformer2DModel prefixes, one after each resnet. */
  attentions: { prefix: string; channels: number }[];
  /** downsamplers.0.conv or upsamplers.0.conv, with its channels. */
  resample: { prefix: string; channels: number } | null;
}

interface UNetPlan {
  down: BlockSpec[];
  mid: BlockSpec;
  up: BlockSpec[];
}

/** The blocks and their channel counts, derived as EmojiUNet2DConditionModel.__init__ does. */
function planLatentUNet(c: LatentUNetConfig): UNetPlan {
  const chs = c.block_out_channels;
  const n = chs.length;
  const skips = [chs[0]];
  let prev = chs[0];
  const down = chs.map((ch, i): BlockSpec => {
    const block: BlockSpec = { resnets: [], attentions: [], resample: null };
    for (let j = 0; j < c.layers_per_block; j++) {
      block.resnets.push({
        prefix: `down_blocks.${i}.resnets.${j}`,
        inChannels: prev,
        outChannels: ch,
      });
      block.attentions.push({ prefix: `down_blocks.${i}.attentions.${j}`, channels: ch });
      prev = ch;
      skips.push(ch);
    }
    if (i < n - 1) {
      block.resample = { prefix: `down_blocks.${i}.downsamplers.0.conv`, channels: ch };
      skips.push(ch);
    }
    return block;
  });
  const last = chs[n - 1];
  const mid: BlockSpec = {
    resnets: [0, 1].map((j) => ({
      prefix: `mid_block.resnets.${j}`,
      inChannels: last,
      outChannels: last,
    })),
    attentions: [{ prefix: 'mid_block.attentions.0', channels: last }],
    resample: null,
  };
  const up = [...chs].reverse().map((ch, i): BlockSpec => {
    const block: BlockSpec = { resnets: [], attentions: [], resample: null };
    for (let j = 0; j < c.layers_per_block + 1; j++) {
      const skip = skips.pop() as number;
      block.resnets.push({
        prefix: `up_blocks.${i}.resnets.${j}`,
        inChannels: prev + skip,
        outChannels: ch,
      });
      block.attentions.push({ prefix: `up_blocks.${i}.attentions.${j}`, channels: ch });
      prev = ch;
    }
    if (i < n - 1) block.resample = { prefix: `up_blocks.${i}.upsamplers.0.conv`, channels: ch };
    return block;
  });
  return { down, mid, up };
}

/** Every parameter with its PyTorch shape (conv OIHW, linear [out, in]). */
export function latentUNetTensorShapes(c: LatentUNetConfig): Map<string, number[]> {
  const plan = planLatentUNet(c);
  const shapes = new Map<string, number[]>();
  const conv = (p: string, out: number, inp: number, k: number) => {
    shapes.set(`${p}.weight`, [out, inp, k, k]);
    shapes.set(`${p}.bias`, [out]);
  };
  const linear = (p: string, out: number, inp: number, bias = true) => {
    shapes.set(`${p}.weight`, [out, inp]);
    if (bias) shapes.set(`${p}.bias`, [out]);
  };
  const norm = (p: string, ch: number) => {
    shapes.set(`${p}.weight`, [ch]);
    shapes.set(`${p}.bias`, [ch]);
  };
  const block = (b: BlockSpec) => {
    for (const r of b.resnets) {
      norm(`${r.prefix}.norm1`, r.inChannels);
      conv(`${r.prefix}.conv1`, r.outChannels, r.inChannels, 3);
      linear(`${r.prefix}.time_emb_proj`, r.outChannels, c.time_embedding_dim);
      norm(`${r.prefix}.norm2`, r.outChannels);
      conv(`${r.prefix}.conv2`, r.outChannels, r.outChannels, 3);
      if (r.inChannels !== r.outChannels) {
        conv(`${r.prefix}.conv_shortcut`, r.outChannels, r.inChannels, 1);
      }
    }
    for (const { prefix, channels: ch } of b.attentions) {
      norm(`${prefix}.norm`, ch);
      linear(`${prefix}.proj_in`, ch, ch);
      const t = `${prefix}.transformer_blocks.0`;
      for (const [attn, ctx] of [
        ['attn1', ch],
        ['attn2', c.cross_attention_dim],
      ] as const) {
        linear(`${t}.${attn}.to_q`, ch, ch, false);
        linear(`${t}.${attn}.to_k`, ch, ctx, false);
        linear(`${t}.${attn}.to_v`, ch, ctx, false);
        linear(`${t}.${attn}.to_out.0`, ch, ch);
      }
      for (const n of ['norm1', 'norm2', 'norm3']) norm(`${t}.${n}`, ch);
      linear(`${t}.ff.net.0`, ch * c.ff_mult, ch);
      linear(`${t}.ff.net.1`, ch, ch * c.ff_mult);
      linear(`${prefix}.proj_out`, ch, ch);
    }
    if (b.resample) conv(b.resample.prefix, b.resample.channels, b.resample.channels, 3);
  };
  const chs = c.block_out_channels;
  conv('conv_in', chs[0], c.in_channels, 3);
  linear('time_embedding.linear_1', c.time_embedding_dim, chs[0]);
  linear('time_embedding.linear_2', c.time_embedding_dim, c.time_embedding_dim);
  plan.down.forEach(block);
  block(plan.mid);
  plan.up.forEach(block);
  norm('conv_norm_out', chs[0]);
  conv('conv_out', c.out_channels, chs[0], 3);
  return shapes;
}

interface ResnetParams {
  norm1: NormParams;
  conv1: ConvParams;
  timeProj: MaybeBiasedLinear;
  norm2: NormParams;
  conv2: ConvParams;
  shortcut: ConvParams | null;
}

interface TransformerParams {
  channels: number;
  heads: number;
  norm: NormParams;
  projIn: MaybeBiasedLinear;
  norm1: NormParams;
  /** attn1's to_q, to_k, to_v side by side [C, 3C] (no bias): one matmul, fused attention. */
  selfQkv: MaybeBiasedLinear;
  selfOut: MaybeBiasedLinear;
  norm2: NormParams;
  crossQ: MaybeBiasedLinear;
  /** attn2's to_k, to_v side by side [context, 2C]. */
  crossKv: MaybeBiasedLinear;
  crossOut: MaybeBiasedLinear;
  norm3: NormParams;
  ff1: MaybeBiasedLinear;
  ff2: MaybeBiasedLinear;
  projOut: MaybeBiasedLinear;
}

/** One transformer's cross-attention keys and values for the batch, heads split: [B * heads, L, d]. */
interface KeysValues {
  k: tf.Tensor3D;
  v: tf.Tensor3D;
}

/**
 * Text contexts run through every transformer's to_k / to_v once (they do not change during a
 * run): per transformer, keys and values [R, heads, L, d] for R contexts (prompt, negative prompt).
 * A model call then only gathers the rows its images use.
 */
export class PreparedContext {
  constructor(
    readonly rows: number,
    readonly length: number,
    readonly perTransformer: Map<TransformerParams, { k: tf.Tensor4D; v: tf.Tensor4D }>,
  ) {}

  dispose(): void {
    for (const { k, v } of this.perTransformer.values()) tf.dispose([k, v]);
    this.perTransformer.clear();
  }
}

interface BlockParams {
  resnets: ResnetParams[];
  attentions: TransformerParams[];
  resample: ConvParams | null;
}

export class LatentUNet {
  readonly config: LatentUNetConfig;
  private readonly params: ParamStore;
  private readonly convIn: ConvParams;
  private readonly time1: MaybeBiasedLinear;
  private readonly time2: MaybeBiasedLinear;
  private readonly down: BlockParams[];
  private readonly mid: BlockParams;
  private readonly up: BlockParams[];
  private readonly normOut: NormParams;
  private readonly convOut: ConvParams;
  private disposed = false;

  constructor(config: LatentUNetConfig, host: Map<string, HostTensor>) {
    this.config = config;
    const p = (this.params = new ParamStore(host));
    const plan = planLatentUNet(config);
    const resnet = (r: ResnetSpec): ResnetParams => ({
      norm1: p.norm(`${r.prefix}.norm1`),
      conv1: p.conv(`${r.prefix}.conv1`),
      timeProj: p.linear(`${r.prefix}.time_emb_proj`),
      norm2: p.norm(`${r.prefix}.norm2`),
      conv2: p.conv(`${r.prefix}.conv2`),
      shortcut: r.inChannels !== r.outChannels ? p.conv(`${r.prefix}.conv_shortcut`) : null,
    });
    const transformer = ({ prefix, channels }: BlockSpec['attentions'][number]) => {
      const t = `${prefix}.transformer_blocks.0`;
      return {
        channels,
        heads: channels / config.attention_head_dim,
        norm: p.norm(`${prefix}.norm`),
        projIn: p.linear(`${prefix}.proj_in`),
        norm1: p.norm(`${t}.norm1`),
        selfQkv: p.stackedLinear([`${t}.attn1.to_q`, `${t}.attn1.to_k`, `${t}.attn1.to_v`], false),
        selfOut: p.linear(`${t}.attn1.to_out.0`),
        norm2: p.norm(`${t}.norm2`),
        crossQ: p.linear(`${t}.attn2.to_q`, false),
        crossKv: p.stackedLinear([`${t}.attn2.to_k`, `${t}.attn2.to_v`], false),
        crossOut: p.linear(`${t}.attn2.to_out.0`),
        norm3: p.norm(`${t}.norm3`),
        ff1: p.linear(`${t}.ff.net.0`),
        ff2: p.linear(`${t}.ff.net.1`),
        projOut: p.linear(`${prefix}.proj_out`),
      };
    };
    const block = (b: BlockSpec): BlockParams => ({
      resnets: b.resnets.map(resnet),
      attentions: b.attentions.map(transformer),
      resample: b.resample ? p.conv(b.resample.prefix) : null,
    });
    this.convIn = p.conv('conv_in');
    this.time1 = p.linear('time_embedding.linear_1');
    this.time2 = p.linear('time_embedding.linear_2');
    this.down = plan.down.map(block);
    this.mid = block(plan.mid);
    this.up = plan.up.map(block);
    this.normOut = p.norm('conv_norm_out');
    this.convOut = p.conv('conv_out');
  }

  /**
   * v (or eps) for latents x [B, H, W, C] NHWC, timesteps (one per sample, fractional allowed) and
   * the text context [B, L, cross_attention_dim]. A new tensor the caller disposes.
   */
  predict(x: tf.Tensor4D, timesteps: ArrayLike<number>, context: tf.Tensor3D): tf.Tensor4D {
    const b = x.shape[0];
    if (context.rank !== 3 || context.shape[0] !== b) {
      throw new Error(`LatentUNet context must be [${b}, L, D], got [${context.shape}]`);
    }
    const prepared = this.prepareContext(context);
    try {
      return this.predictPrepared(
        x,
        timesteps,
        prepared,
        Array.from({ length: b }, (_, i) => i),
      );
    } finally {
      prepared.dispose();
    }
  }

  /** Keys and values of every transformer's cross-attention for contexts [R, L, D]. */
  prepareContext(contexts: tf.Tensor3D): PreparedContext {
    if (this.disposed) throw new Error('LatentUNet.prepareContext called after dispose()');
    const [rows, length, dim] = contexts.shape;
    if (dim !== this.config.cross_attention_dim) {
      throw new Error(
        `LatentUNet context must be [R, L, ${this.config.cross_attention_dim}], got [${contexts.shape}]`,
      );
    }
    const perTransformer = new Map<TransformerParams, { k: tf.Tensor4D; v: tf.Tensor4D }>();
    for (const p of this.transformers()) {
      const kv = tf.tidy(() => {
        const d = p.channels / p.heads;
        const [k, v] = tf
          .split(dense(contexts, p.crossKv), 2, 2)
          .map((z) => tf.transpose(tf.reshape(z, [rows, length, p.heads, d]), [0, 2, 1, 3])) as [
          tf.Tensor4D,
          tf.Tensor4D,
        ];
        return { k, v };
      });
      perTransformer.set(p, kv);
    }
    return new PreparedContext(rows, length, perTransformer);
  }

  /** predict() with prepared contexts: image i attends to context row rows[i]. */
  predictPrepared(
    x: tf.Tensor4D,
    timesteps: ArrayLike<number>,
    prepared: PreparedContext,
    rows: ArrayLike<number>,
  ): tf.Tensor4D {
    if (this.disposed) throw new Error('LatentUNet.predict called after dispose()');
    const [b, h, w, c] = x.shape;
    const { sample_size: size, in_channels: inCh } = this.config;
    if (h !== size || w !== size || c !== inCh) {
      throw new Error(`LatentUNet input must be [B, ${size}, ${size}, ${inCh}], got [${x.shape}]`);
    }
    if (timesteps.length !== b || rows.length !== b) {
      throw new Error(
        `LatentUNet got ${timesteps.length} timesteps and ${rows.length} context rows for a batch of ${b}`,
      );
    }
    const times = Float64Array.from(timesteps);
    times.forEach((t, i) => {
      if (!Number.isFinite(t)) throw new Error(`LatentUNet timestep ${i} is ${t}`);
    });
    const picks = Int32Array.from(rows);
    picks.forEach((r, i) => {
      if (r !== rows[i] || r < 0 || r >= prepared.rows) {
        throw new Error(`LatentUNet context row ${rows[i]} is not one of 0..${prepared.rows - 1}`);
      }
    });
    return tf.tidy(() => {
      // One gather per transformer: the batch's keys and values, heads split [B * heads, L, d].
      const index = tf.tensor1d(picks, 'int32');
      const context = new Map<TransformerParams, KeysValues>();
      for (const [p, { k, v }] of prepared.perTransformer) {
        const [, heads, length, d] = k.shape;
        const flat = (z: tf.Tensor4D) => tf.reshape(tf.gather(z, index), [b * heads, length, d]);
        context.set(p, { k: flat(k) as tf.Tensor3D, v: flat(v) as tf.Tensor3D });
      }
      return this.forward(x, times, context);
    });
  }

  /** Every transformer, in forward order. */
  private transformers(): TransformerParams[] {
    return [...this.down, this.mid, ...this.up].flatMap((b) => b.attentions);
  }

  private resnet(x: tf.Tensor4D, siluTemb: tf.Tensor2D, p: ResnetParams): tf.Tensor4D {
    const { norm_num_groups: groups, norm_eps: eps } = this.config;
    const h = conv(normalise(x, p.norm1, groups, eps, true), p.conv1);
    const emb = dense(siluTemb, p.timeProj); // h + emb[:, :, None, None], before norm2
    const out = conv(normalise(h, p.norm2, groups, eps, true, emb), p.conv2); // dropout: identity
    return tf.add(p.shortcut ? conv(x, p.shortcut) : x, out);
  }

  private transformer(
    x: tf.Tensor4D,
    context: Map<TransformerParams, KeysValues>,
    p: TransformerParams,
  ): tf.Tensor4D {
    const [b, h, w, c] = x.shape;
    const groups = this.config.norm_num_groups;
    const normed = normalise(x, p.norm, groups, TRANSFORMER_NORM_EPS, false);
    let t = dense(tf.reshape(normed, [b, h * w, c]) as tf.Tensor3D, p.projIn);
    const core = wasmKernelsReady() ? fusedAttention : attentionCore;
    t = tf.add(
      t,
      dense(core(dense(layerNorm(t, p.norm1, LAYER_NORM_EPS), p.selfQkv), p.heads), p.selfOut),
    );
    t = tf.add(
      t,
      dense(
        this.crossAttention(layerNorm(t, p.norm2, LAYER_NORM_EPS), context.get(p)!, p),
        p.crossOut,
      ),
    );
    t = tf.add(t, dense(quickGelu(dense(layerNorm(t, p.norm3, LAYER_NORM_EPS), p.ff1)), p.ff2));
    return tf.add(x, tf.reshape(dense(t, p.projOut), [b, h, w, c]));
  }

  /** Queries from the latent tokens [B, N, C] over the text tokens' keys and values: [B, N, C]. */
  private crossAttention(t: tf.Tensor3D, kv: KeysValues, p: TransformerParams): tf.Tensor3D {
    const q = splitHeads(dense(t, p.crossQ), p.heads);
    return mergeHeads(scaledDotProduct(q, kv.k, kv.v), p.heads);
  }

  private block(
    h: tf.Tensor4D,
    siluTemb: tf.Tensor2D,
    context: Map<TransformerParams, KeysValues>,
    p: BlockParams,
    j: number,
  ): tf.Tensor4D {
    return this.transformer(this.resnet(h, siluTemb, p.resnets[j]), context, p.attentions[j]);
  }

  private forward(
    x: tf.Tensor4D,
    times: Float64Array,
    context: Map<TransformerParams, KeysValues>,
  ): tf.Tensor4D {
    const dim = this.config.block_out_channels[0];
    const features = tf.tensor2d(timestepFeatures(times, dim, 10000), [times.length, dim]);
    // SiLU(temb) is what every ResNet's time projection reads; compute it once.
    const siluTemb = silu(dense(silu(dense(features, this.time1)), this.time2));
    let h = conv(x, this.convIn);
    const skips: tf.Tensor4D[] = [h];
    for (const block of this.down) {
      for (let j = 0; j < block.resnets.length; j++) {
        h = this.block(h, siluTemb, context, block, j);
        skips.push(h);
      }
      if (block.resample) {
        h = downsampleConv(h, block.resample); // pads 1 on every side, as PyTorch's padding=1
        skips.push(h);
      }
    }
    h = this.resnet(h, siluTemb, this.mid.resnets[0]);
    h = this.transformer(h, context, this.mid.attentions[0]);
    h = this.resnet(h, siluTemb, this.mid.resnets[1]);
    for (const block of this.up) {
      for (let j = 0; j < block.resnets.length; j++) {
        h = tf.concat([h, skips.pop() as tf.Tensor4D], 3);
        h = this.block(h, siluTemb, context, block, j);
      }
      if (block.resample) h = conv(upsampleNearest2x(h), block.resample);
    }
    const { norm_num_groups: groups, norm_eps: eps } = this.config;
    return conv(normalise(h, this.normOut, groups, eps, true), this.convOut);
  }

  dispose(): void {
    this.params.dispose();
    this.disposed = true;
  }
}
