// The super-resolution U-Net of training/sr/sr_unet.py in tfjs-core, NHWC: diffusers' UNet2DModel
// layout without attention, the (noise-augmented) low-res image repeated 2x2 and concatenated to
// x_t, the augmentation level through a second timestep embedding. Built from unet/config.json and
// the safetensors weights; predict() gives the model output (v, see the card's prediction_type).
import * as tf from '@tensorflow/tfjs-core';
import { timestepFeatures } from '../model/embedding';
import {
  conv,
  convFilterFromTorch,
  downsampleConv,
  groupNorm,
  linear,
  linearWeightFromTorch,
  silu,
  upsampleNearest2x,
  type ConvParams,
  type LinearParams,
  type NormParams,
} from '../model/layers';
import type { HostTensor } from '../model/weights';
import { fusedGroupNorm, fusedGroupNormAvailable } from '../kernels';
import type { SRUNetConfig } from './srCard';

interface ResnetSpec {
  prefix: string;
  inChannels: number;
  outChannels: number;
}

interface LevelSpec {
  resnets: ResnetSpec[];
  /** downsamplers.0.conv / upsamplers.0.conv, with its channel count. */
  resample: { prefix: string; channels: number } | null;
}

export interface SRUNetPlan {
  down: LevelSpec[];
  mid: ResnetSpec[];
  up: LevelSpec[];
}

/** The blocks sr_unet.EmojiSRUNet2DModel builds for a config, in forward order. */
export function planSRUNet(cfg: SRUNetConfig): SRUNetPlan {
  const chs = cfg.block_out_channels;
  const layers = cfg.layers_per_block;
  const skips = [chs[0]];
  let prev = chs[0];
  const down: LevelSpec[] = chs.map((ch, i) => {
    const resnets: ResnetSpec[] = [];
    for (let j = 0; j < layers; j++) {
      resnets.push({ prefix: `down_blocks.${i}.resnets.${j}`, inChannels: prev, outChannels: ch });
      prev = ch;
      skips.push(ch);
    }
    const last = i === chs.length - 1;
    if (!last) skips.push(ch);
    return {
      resnets,
      resample: last ? null : { prefix: `down_blocks.${i}.downsamplers.0.conv`, channels: ch },
    };
  });
  const top = chs[chs.length - 1];
  const mid = [0, 1].map((j) => ({
    prefix: `mid_block.resnets.${j}`,
    inChannels: top,
    outChannels: top,
  }));
  const up: LevelSpec[] = [...chs].reverse().map((ch, i) => {
    const resnets: ResnetSpec[] = [];
    for (let j = 0; j <= layers; j++) {
      const skip = skips.pop() as number;
      resnets.push({
        prefix: `up_blocks.${i}.resnets.${j}`,
        inChannels: prev + skip,
        outChannels: ch,
      });
      prev = ch;
    }
    const last = i === chs.length - 1;
    return {
      resnets,
      resample: last ? null : { prefix: `up_blocks.${i}.upsamplers.0.conv`, channels: ch },
    };
  });
  return { down, mid, up };
}

/** Every parameter the network reads, with its PyTorch shape. */
export function expectedSRTensorShapes(cfg: SRUNetConfig): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const c0 = cfg.block_out_channels[0];
  const temb = cfg.time_embedding_dim;
  const convShape = (prefix: string, o: number, i: number, k: number) => {
    shapes.set(`${prefix}.weight`, [o, i, k, k]);
    shapes.set(`${prefix}.bias`, [o]);
  };
  const linearShape = (prefix: string, o: number, i: number) => {
    shapes.set(`${prefix}.weight`, [o, i]);
    shapes.set(`${prefix}.bias`, [o]);
  };
  const normShape = (prefix: string, c: number) => {
    shapes.set(`${prefix}.weight`, [c]);
    shapes.set(`${prefix}.bias`, [c]);
  };
  convShape('conv_in', c0, cfg.in_channels, 3);
  for (const emb of ['time_embedding', 'class_embedding']) {
    linearShape(`${emb}.linear_1`, temb, c0);
    linearShape(`${emb}.linear_2`, temb, temb);
  }
  const plan = planSRUNet(cfg);
  const resnet = (r: ResnetSpec) => {
    normShape(`${r.prefix}.norm1`, r.inChannels);
    convShape(`${r.prefix}.conv1`, r.outChannels, r.inChannels, 3);
    linearShape(`${r.prefix}.time_emb_proj`, r.outChannels, temb);
    normShape(`${r.prefix}.norm2`, r.outChannels);
    convShape(`${r.prefix}.conv2`, r.outChannels, r.outChannels, 3);
    if (r.inChannels !== r.outChannels)
      convShape(`${r.prefix}.conv_shortcut`, r.outChannels, r.inChannels, 1);
  };
  for (const level of plan.down) {
    level.resnets.forEach(resnet);
    if (level.resample)
      convShape(level.resample.prefix, level.resample.channels, level.resample.channels, 3);
  }
  plan.mid.forEach(resnet);
  for (const level of plan.up) {
    level.resnets.forEach(resnet);
    if (level.resample)
      convShape(level.resample.prefix, level.resample.channels, level.resample.channels, 3);
  }
  normShape('conv_norm_out', c0);
  convShape('conv_out', cfg.out_channels, c0, 3);
  return shapes;
}

interface ResnetParams {
  norm1: NormParams;
  conv1: ConvParams;
  embProj: LinearParams;
  norm2: NormParams;
  conv2: ConvParams;
  shortcut: ConvParams | null;
}

interface LevelParams {
  resnets: ResnetParams[];
  resample: ConvParams | null;
}

export type PerSample = number | ArrayLike<number>;

export class SRUNet {
  readonly config: SRUNetConfig;
  private readonly tensors: tf.Tensor[] = [];
  private readonly convIn: ConvParams;
  private readonly timeEmbedding: [LinearParams, LinearParams];
  private readonly classEmbedding: [LinearParams, LinearParams];
  private readonly down: LevelParams[];
  private readonly mid: ResnetParams[];
  private readonly up: LevelParams[];
  private readonly outNorm: NormParams;
  private readonly convOut: ConvParams;
  private disposed = false;

  constructor(config: SRUNetConfig, host: Map<string, HostTensor>) {
    this.config = config;
    const get = (name: string): HostTensor => {
      const t = host.get(name);
      if (!t) throw new Error(`internal: parameter ${name} was not decoded`);
      return t;
    };
    const keep = <T extends tf.Tensor>(t: T): T => {
      this.tensors.push(t);
      return t;
    };
    const vector = (name: string) => keep(tf.tensor1d(get(name).values));
    const convP = (prefix: string): ConvParams => ({
      filter: keep(convFilterFromTorch(get(`${prefix}.weight`))),
      bias: vector(`${prefix}.bias`),
    });
    const linearP = (prefix: string): LinearParams => ({
      weight: keep(linearWeightFromTorch(get(`${prefix}.weight`))),
      bias: vector(`${prefix}.bias`),
    });
    const normP = (prefix: string): NormParams => ({
      gamma: vector(`${prefix}.weight`),
      beta: vector(`${prefix}.bias`),
    });
    const resnet = (r: ResnetSpec): ResnetParams => ({
      norm1: normP(`${r.prefix}.norm1`),
      conv1: convP(`${r.prefix}.conv1`),
      embProj: linearP(`${r.prefix}.time_emb_proj`),
      norm2: normP(`${r.prefix}.norm2`),
      conv2: convP(`${r.prefix}.conv2`),
      shortcut: r.inChannels !== r.outChannels ? convP(`${r.prefix}.conv_shortcut`) : null,
    });
    const level = (l: LevelSpec): LevelParams => ({
      resnets: l.resnets.map(resnet),
      resample: l.resample ? convP(l.resample.prefix) : null,
    });
    const plan = planSRUNet(config);
    this.convIn = convP('conv_in');
    this.timeEmbedding = [linearP('time_embedding.linear_1'), linearP('time_embedding.linear_2')];
    this.classEmbedding = [
      linearP('class_embedding.linear_1'),
      linearP('class_embedding.linear_2'),
    ];
    this.down = plan.down.map(level);
    this.mid = plan.mid.map(resnet);
    this.up = plan.up.map(level);
    this.outNorm = normP('conv_norm_out');
    this.convOut = convP('conv_out');
  }

  /** The spatial sides must be divisible by this (one stride-2 downsampling per level but the last). */
  get sizeMultiple(): number {
    return 2 ** (this.config.block_out_channels.length - 1);
  }

  /**
   * Model output for x_t [B, H, W, 3] (NHWC, [-1, 1] at t = 0), timesteps (one per sample or one
   * for all), the low-res conditioning [B, H/2, W/2, 3] as the model reads it (already
   * noise-augmented to `noiseLevels`), and the augmentation levels. Returns a new tensor [B, H, W, 3].
   */
  predict(
    x: tf.Tensor4D,
    timesteps: PerSample,
    lowRes: tf.Tensor4D,
    noiseLevels: PerSample,
  ): tf.Tensor4D {
    if (this.disposed) throw new Error('SRUNet.predict called after dispose()');
    const [b, h, w, c] = x.shape;
    const m = this.sizeMultiple;
    if (c !== this.config.out_channels || h % m || w % m) {
      throw new Error(
        `SR U-Net input must be [B, H, W, ${this.config.out_channels}] with H, W multiples of ${m}, got [${x.shape}]`,
      );
    }
    const [lb, lh, lw, lc] = lowRes.shape;
    if (lb !== b || lh * 2 !== h || lw * 2 !== w || lc !== c) {
      throw new Error(
        `SR U-Net low-res input must be [${b}, ${h / 2}, ${w / 2}, ${c}], got [${lowRes.shape}]`,
      );
    }
    const t = perSample(timesteps, b, 'timestep');
    const s = perSample(noiseLevels, b, 'noise level');
    return tf.tidy(() => this.forward(x, t, lowRes, s));
  }

  private embed(values: Float64Array, mlp: [LinearParams, LinearParams]): tf.Tensor2D {
    const dim = this.config.block_out_channels[0];
    const features = tf.tensor2d(timestepFeatures(values, dim), [values.length, dim]);
    return linear(silu(linear(features, mlp[0])), mlp[1]);
  }

  private normalise(x: tf.Tensor4D, p: NormParams, add?: tf.Tensor2D): tf.Tensor4D {
    const { norm_num_groups: groups, norm_eps: eps } = this.config;
    if (fusedGroupNormAvailable())
      return fusedGroupNorm(x, p.gamma, p.beta, { groups, eps, silu: true }, add);
    const [b, , , c] = x.shape;
    return silu(groupNorm(add ? tf.add(x, tf.reshape(add, [b, 1, 1, c])) : x, p, groups, eps));
  }

  private resnet(x: tf.Tensor4D, siluEmb: tf.Tensor2D, p: ResnetParams): tf.Tensor4D {
    const h = conv(this.normalise(x, p.norm1), p.conv1);
    const emb = linear(siluEmb, p.embProj);
    const out = conv(this.normalise(h, p.norm2, emb), p.conv2);
    return tf.add(out, p.shortcut ? conv(x, p.shortcut) : x);
  }

  private forward(
    x: tf.Tensor4D,
    t: Float64Array,
    lowRes: tf.Tensor4D,
    s: Float64Array,
  ): tf.Tensor4D {
    const temb: tf.Tensor2D = tf.add(
      this.embed(t, this.timeEmbedding),
      this.embed(s, this.classEmbedding),
    );
    const siluEmb = silu(temb);
    let h = conv(tf.concat([x, upsampleNearest2x(lowRes)], 3), this.convIn);
    const skips: tf.Tensor4D[] = [h];
    for (const level of this.down) {
      for (const r of level.resnets) {
        h = this.resnet(h, siluEmb, r);
        skips.push(h);
      }
      if (level.resample) {
        h = downsampleConv(h, level.resample);
        skips.push(h);
      }
    }
    for (const r of this.mid) h = this.resnet(h, siluEmb, r);
    for (const level of this.up) {
      for (const r of level.resnets)
        h = this.resnet(tf.concat([h, skips.pop() as tf.Tensor4D], 3), siluEmb, r);
      if (level.resample) h = conv(upsampleNearest2x(h), level.resample);
    }
    return conv(this.normalise(h, this.outNorm), this.convOut);
  }

  dispose(): void {
    tf.dispose(this.tensors);
    this.tensors.length = 0;
    this.disposed = true;
  }
}

function perSample(v: PerSample, batch: number, what: string): Float64Array {
  const values = typeof v === 'number' ? [v] : v;
  if (values.length !== 1 && values.length !== batch) {
    throw new Error(`SR U-Net got ${values.length} ${what}s for a batch of ${batch}`);
  }
  const out = new Float64Array(batch);
  for (let i = 0; i < batch; i++) {
    out[i] = values.length === 1 ? values[0] : values[i];
    if (!Number.isFinite(out[i])) throw new Error(`SR U-Net ${what} ${i} is ${out[i]}`);
  }
  return out;
}
