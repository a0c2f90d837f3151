// The U-Net's structure as data, derived from the card's config exactly as training/unet.py's
// UNet.__init__ derives it: which ResBlocks, attentions and resamplers exist, their channel counts
// and their parameter names. The forward pass (unet.ts) and the weight validation (weights.ts) both
// read this one plan, so they cannot disagree with each other about the layout.
import type { UNetConfig } from './card';

export interface ResBlockSpec {
  prefix: string;
  inChannels: number;
  outChannels: number;
}

export interface AttentionSpec {
  prefix: string;
  channels: number;
}

export interface LevelSpec {
  blocks: ResBlockSpec[];
  /** One per block when this resolution has attention, else empty. */
  attentions: AttentionSpec[];
  /** Name prefix of the stride-2 conv (encoder) or nearest-x2 + conv (decoder), if any. */
  resample: { prefix: string; channels: number } | null;
}

export interface UNetPlan {
  config: UNetConfig;
  down: LevelSpec[];
  midBlock1: ResBlockSpec;
  midAttention: AttentionSpec | null;
  midBlock2: ResBlockSpec;
  /** Decoder levels in forward order: lowest resolution first (names up.0, up.1, ...). */
  up: LevelSpec[];
  finalChannels: number;
}

export function planUNet(config: UNetConfig): UNetPlan {
  const widths = config.channel_mult.map((m) => config.base_channels * m);
  const n = config.num_res_blocks;
  const hasAttention = (res: number) => config.attention_resolutions.includes(res);
  const skipChannels = [widths[0]];
  let ch = widths[0];
  let res = config.image_size;

  const down: LevelSpec[] = widths.map((outCh, i) => {
    const level: LevelSpec = { blocks: [], attentions: [], resample: null };
    for (let j = 0; j < n; j++) {
      level.blocks.push({ prefix: `down.${i}.blocks.${j}`, inChannels: ch, outChannels: outCh });
      ch = outCh;
      if (hasAttention(res))
        level.attentions.push({ prefix: `down.${i}.attns.${j}`, channels: ch });
      skipChannels.push(ch);
    }
    if (i < widths.length - 1) {
      level.resample = { prefix: `down.${i}.resample.conv`, channels: ch };
      res = Math.floor(res / 2);
      skipChannels.push(ch);
    }
    return level;
  });

  const midBlock1 = { prefix: 'mid_block1', inChannels: ch, outChannels: ch };
  const midAttention = config.mid_attention ? { prefix: 'mid_attn', channels: ch } : null;
  const midBlock2 = { prefix: 'mid_block2', inChannels: ch, outChannels: ch };

  const up: LevelSpec[] = [];
  for (let i = widths.length - 1; i >= 0; i--) {
    const k = up.length;
    const level: LevelSpec = { blocks: [], attentions: [], resample: null };
    for (let j = 0; j < n + 1; j++) {
      const skip = skipChannels.pop() as number;
      level.blocks.push({
        prefix: `up.${k}.blocks.${j}`,
        inChannels: ch + skip,
        outChannels: widths[i],
      });
      ch = widths[i];
      if (hasAttention(res)) level.attentions.push({ prefix: `up.${k}.attns.${j}`, channels: ch });
    }
    if (i > 0) {
      level.resample = { prefix: `up.${k}.resample.conv`, channels: ch };
      res *= 2;
    }
    up.push(level);
  }
  return { config, down, midBlock1, midAttention, midBlock2, up, finalChannels: ch };
}

/** Every parameter the plan needs, with its PyTorch shape (conv OIHW, linear [out, in]). */
export function expectedTensorShapes(plan: UNetPlan): Map<string, number[]> {
  const { config } = plan;
  const shapes = new Map<string, number[]>();
  const conv = (prefix: string, cout: number, cin: number, k: number) => {
    shapes.set(`${prefix}.weight`, [cout, cin, k, k]);
    shapes.set(`${prefix}.bias`, [cout]);
  };
  const linear = (prefix: string, out: number, inp: number) => {
    shapes.set(`${prefix}.weight`, [out, inp]);
    shapes.set(`${prefix}.bias`, [out]);
  };
  const norm = (prefix: string, channels: number) => {
    shapes.set(`${prefix}.weight`, [channels]);
    shapes.set(`${prefix}.bias`, [channels]);
  };
  const block = ({ prefix, inChannels, outChannels }: ResBlockSpec) => {
    norm(`${prefix}.norm1`, inChannels);
    conv(`${prefix}.conv1`, outChannels, inChannels, 3);
    linear(`${prefix}.emb_proj`, outChannels, config.embed_dim);
    norm(`${prefix}.norm2`, outChannels);
    conv(`${prefix}.conv2`, outChannels, outChannels, 3);
    if (inChannels !== outChannels) conv(`${prefix}.skip`, outChannels, inChannels, 1);
  };
  const attention = ({ prefix, channels }: AttentionSpec) => {
    norm(`${prefix}.norm`, channels);
    linear(`${prefix}.qkv`, 3 * channels, channels);
    linear(`${prefix}.proj`, channels, channels);
  };
  const level = (spec: LevelSpec) => {
    spec.blocks.forEach(block);
    spec.attentions.forEach(attention);
    if (spec.resample)
      conv(spec.resample.prefix, spec.resample.channels, spec.resample.channels, 3);
  };

  linear('time_mlp.0', config.embed_dim, config.timestep_features);
  linear('time_mlp.2', config.embed_dim, config.embed_dim);
  shapes.set('class_embed.weight', [config.num_classes + 1, config.embed_dim]);
  conv('conv_in', config.base_channels * config.channel_mult[0], config.in_channels, 3);
  plan.down.forEach(level);
  block(plan.midBlock1);
  if (plan.midAttention) attention(plan.midAttention);
  block(plan.midBlock2);
  plan.up.forEach(level);
  norm('out_norm', plan.finalChannels);
  conv('conv_out', config.out_channels, plan.finalChannels, 3);
  return shapes;
}
