// The KL autoencoder of training/emoji/vae.py (diffusers' AutoencoderKL layout and names) in
// tfjs-core, NHWC: encoder -> quant_conv -> posterior (mean, logvar); post_quant_conv -> decoder.
import * as tf from '@tensorflow/tfjs-core';
import { conv, upsampleNearest2x, type ConvParams, type NormParams } from '../model/layers';
import type { HostTensor } from '../model/weights';
import { fusedAttention, wasmKernelsReady } from '../kernels';
import { attentionCore } from '../model/layers';
import type { VaeConfig } from './config';
import { dense, normalise, ParamStore, type MaybeBiasedLinear } from './nn';

/** diffusers' VAE GroupNorm eps (vae.py GROUP_NORM_EPS; its U-Nets use 1e-5). */
export const VAE_GROUP_NORM_EPS = 1e-6;
/** logvar is clamped to this range, as diffusers' DiagonalGaussianDistribution does. */
const LOGVAR_RANGE = [-30, 20] as const;

interface ResnetSpec {
  prefix: string;
  inChannels: number;
  outChannels: number;
}

interface HalfPlan {
  /** Resnets and resamplers in forward order, with the mid block's attention at its place. */
  stages: (
    | { kind: 'resnet'; spec: ResnetSpec }
    | { kind: 'down' | 'up'; prefix: string; channels: number }
    | { kind: 'attention'; prefix: string; channels: number }
  )[];
  inChannels: number;
  firstChannels: number;
  lastChannels: number;
  outChannels: number;
}

function midStages(side: string, ch: number, attention: boolean): HalfPlan['stages'] {
  const resnet = (j: number) => ({
    kind: 'resnet' as const,
    spec: { prefix: `${side}.mid_block.resnets.${j}`, inChannels: ch, outChannels: ch },
  });
  const attn = {
    kind: 'attention' as const,
    prefix: `${side}.mid_block.attentions.0`,
    channels: ch,
  };
  return attention ? [resnet(0), attn, resnet(1)] : [resnet(0), resnet(1)];
}

function planEncoder(c: VaeConfig): HalfPlan {
  const chs = c.block_out_channels;
  const stages: HalfPlan['stages'] = [];
  let prev = chs[0];
  chs.forEach((ch, i) => {
    for (let j = 0; j < c.layers_per_block; j++) {
      const prefix = `encoder.down_blocks.${i}.resnets.${j}`;
      stages.push({ kind: 'resnet', spec: { prefix, inChannels: prev, outChannels: ch } });
      prev = ch;
    }
    if (i < chs.length - 1) {
      stages.push({
        kind: 'down',
        prefix: `encoder.down_blocks.${i}.downsamplers.0.conv`,
        channels: ch,
      });
    }
  });
  stages.push(...midStages('encoder', prev, c.mid_block_add_attention));
  return {
    stages,
    inChannels: c.in_channels,
    firstChannels: chs[0],
    lastChannels: prev,
    outChannels: 2 * c.latent_channels,
  };
}

function planDecoder(c: VaeConfig): HalfPlan {
  const rev = [...c.block_out_channels].reverse();
  const stages: HalfPlan['stages'] = midStages('decoder', rev[0], c.mid_block_add_attention);
  let prev = rev[0];
  rev.forEach((ch, i) => {
    for (let j = 0; j < c.layers_per_block + 1; j++) {
      const prefix = `decoder.up_blocks.${i}.resnets.${j}`;
      stages.push({ kind: 'resnet', spec: { prefix, inChannels: prev, outChannels: ch } });
      prev = ch;
    }
    if (i < rev.length - 1) {
      stages.push({ kind: 'up', prefix: `decoder.up_blocks.${i}.upsamplers.0.conv`, channels: ch });
    }
  });
  return {
    stages,
    inChannels: c.latent_channels,
    firstChannels: rev[0],
    lastChannels: prev,
    outChannels: c.out_channels,
  };
}

/** Every parameter with its PyTorch shape. */
export function vaeTensorShapes(c: VaeConfig): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const conv2 = (p: string, out: number, inp: number, k: number) => {
    shapes.set(`${p}.weight`, [out, inp, k, k]);
    shapes.set(`${p}.bias`, [out]);
  };
  const vec = (p: string, n: number) => {
    shapes.set(`${p}.weight`, [n]);
    shapes.set(`${p}.bias`, [n]);
  };
  const half = (side: string, plan: HalfPlan) => {
    conv2(`${side}.conv_in`, plan.firstChannels, plan.inChannels, 3);
    for (const s of plan.stages) {
      if (s.kind === 'resnet') {
        const { prefix, inChannels: i, outChannels: o } = s.spec;
        vec(`${prefix}.norm1`, i);
        conv2(`${prefix}.conv1`, o, i, 3);
        vec(`${prefix}.norm2`, o);
        conv2(`${prefix}.conv2`, o, o, 3);
        if (i !== o) conv2(`${prefix}.conv_shortcut`, o, i, 1);
      } else if (s.kind === 'attention') {
        vec(`${s.prefix}.group_norm`, s.channels);
        for (const l of ['to_q', 'to_k', 'to_v', 'to_out.0']) {
          shapes.set(`${s.prefix}.${l}.weight`, [s.channels, s.channels]);
          shapes.set(`${s.prefix}.${l}.bias`, [s.channels]);
        }
      } else {
        conv2(s.prefix, s.channels, s.channels, 3);
      }
    }
    vec(`${side}.conv_norm_out`, plan.lastChannels);
    conv2(`${side}.conv_out`, plan.outChannels, plan.lastChannels, 3);
  };
  half('encoder', planEncoder(c));
  half('decoder', planDecoder(c));
  conv2('quant_conv', 2 * c.latent_channels, 2 * c.latent_channels, 1);
  conv2('post_quant_conv', c.latent_channels, c.latent_channels, 1);
  return shapes;
}

type Stage =
  | {
      kind: 'resnet';
      norm1: NormParams;
      conv1: ConvParams;
      norm2: NormParams;
      conv2: ConvParams;
      shortcut: ConvParams | null;
    }
  | { kind: 'down'; conv: ConvParams }
  | { kind: 'up'; conv: ConvParams }
  | { kind: 'attention'; norm: NormParams; qkv: MaybeBiasedLinear; out: MaybeBiasedLinear };

interface Half {
  convIn: ConvParams;
  stages: Stage[];
  normOut: NormParams;
  convOut: ConvParams;
}

export interface Posterior {
  /** [B, h, w, latent_channels], unnormalised z space. */
  mean: tf.Tensor4D;
  /** Clamped to [-30, 20]. */
  logvar: tf.Tensor4D;
}

export class Autoencoder {
  readonly config: VaeConfig;
  private readonly params: ParamStore;
  private readonly encoder: Half;
  private readonly decoder: Half;
  private readonly quantConv: ConvParams;
  private readonly postQuantConv: ConvParams;
  private disposed = false;

  constructor(config: VaeConfig, host: Map<string, HostTensor>) {
    this.config = config;
    const p = (this.params = new ParamStore(host));
    const half = (side: string, plan: HalfPlan): Half => ({
      convIn: p.conv(`${side}.conv_in`),
      stages: plan.stages.map((s): Stage => {
        if (s.kind === 'resnet') {
          const { prefix, inChannels, outChannels } = s.spec;
          return {
            kind: 'resnet',
            norm1: p.norm(`${prefix}.norm1`),
            conv1: p.conv(`${prefix}.conv1`),
            norm2: p.norm(`${prefix}.norm2`),
            conv2: p.conv(`${prefix}.conv2`),
            shortcut: inChannels !== outChannels ? p.conv(`${prefix}.conv_shortcut`) : null,
          };
        }
        if (s.kind === 'attention') {
          return {
            kind: 'attention',
            norm: p.norm(`${s.prefix}.group_norm`),
            qkv: p.stackedLinear(
              [`${s.prefix}.to_q`, `${s.prefix}.to_k`, `${s.prefix}.to_v`],
              true,
            ),
            out: p.linear(`${s.prefix}.to_out.0`),
          };
        }
        return s.kind === 'down'
          ? { kind: 'down', conv: p.conv(s.prefix) }
          : { kind: 'up', conv: p.conv(s.prefix) };
      }),
      normOut: p.norm(`${side}.conv_norm_out`),
      convOut: p.conv(`${side}.conv_out`),
    });
    this.encoder = half('encoder', planEncoder(config));
    this.decoder = half('decoder', planDecoder(config));
    this.quantConv = p.conv('quant_conv');
    this.postQuantConv = p.conv('post_quant_conv');
  }

  /** The downsampling factor between pixels and latents (4 for 32x32 <-> 8x8). */
  get factor(): number {
    return 2 ** (this.config.block_out_channels.length - 1);
  }

  /** Pixels [B, S, S, in_channels] in [-1, 1] -> posterior mean and logvar (new tensors). */
  encode(images: tf.Tensor4D): Posterior {
    this.check(images, this.config.sample_size, this.config.in_channels, 'encode');
    return tf.tidy(() => {
      const moments = conv(this.run(this.encoder, images), this.quantConv);
      const [mean, logvar] = tf.split(moments, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
      return { mean, logvar: tf.clipByValue(logvar, LOGVAR_RANGE[0], LOGVAR_RANGE[1]) };
    });
  }

  /** Latents z [B, s, s, latent_channels] (unnormalised) -> pixels [B, S, S, out_channels]. */
  decode(z: tf.Tensor4D): tf.Tensor4D {
    const size = this.config.sample_size / this.factor;
    this.check(z, size, this.config.latent_channels, 'decode');
    return tf.tidy(() => this.run(this.decoder, conv(z, this.postQuantConv)));
  }

  private check(x: tf.Tensor4D, size: number, channels: number, what: string): void {
    if (this.disposed) throw new Error(`Autoencoder.${what} called after dispose()`);
    const [, h, w, c] = x.shape;
    if (h !== size || w !== size || c !== channels) {
      throw new Error(
        `Autoencoder.${what} needs [B, ${size}, ${size}, ${channels}], got [${x.shape}]`,
      );
    }
  }

  private run(half: Half, x: tf.Tensor4D): tf.Tensor4D {
    const groups = this.config.norm_num_groups;
    const eps = VAE_GROUP_NORM_EPS;
    let h = conv(x, half.convIn);
    for (const s of half.stages) {
      if (s.kind === 'resnet') {
        const r = conv(normalise(h, s.norm1, groups, eps, true), s.conv1);
        const out = conv(normalise(r, s.norm2, groups, eps, true), s.conv2);
        h = tf.add(s.shortcut ? conv(h, s.shortcut) : h, out);
      } else if (s.kind === 'down') {
        // diffusers pads (0, 1, 0, 1) before a stride-2 'valid' conv: exactly tfjs 'same' here.
        h = tf.fused.conv2d({
          x: h,
          filter: s.conv.filter,
          bias: s.conv.bias,
          strides: 2,
          pad: 'same',
        });
      } else if (s.kind === 'up') {
        h = conv(upsampleNearest2x(h), s.conv);
      } else {
        h = this.attention(h, s);
      }
    }
    return conv(normalise(h, half.normOut, groups, eps, true), half.convOut);
  }

  /** Single-head self-attention over all positions, with the residual. */
  private attention(x: tf.Tensor4D, s: Extract<Stage, { kind: 'attention' }>): tf.Tensor4D {
    const [b, h, w, c] = x.shape;
    const normed = normalise(x, s.norm, this.config.norm_num_groups, VAE_GROUP_NORM_EPS, false);
    const tokens = tf.reshape(normed, [b, h * w, c]) as tf.Tensor3D;
    const core = wasmKernelsReady() ? fusedAttention : attentionCore;
    return tf.add(x, tf.reshape(dense(core(dense(tokens, s.qkv), 1), s.out), [b, h, w, c]));
  }

  dispose(): void {
    this.params.dispose();
    this.disposed = true;
  }
}
