// training/train_noisy_classifier.py's NoisyClassifier in tfjs-core, NHWC: class logits of a noisy
// image x_t at a (possibly fractional) timestep t, for classifier guidance. It is built from the
// same pieces as the U-Net (layers.ts, embedding.ts, weights.ts), so the two ports share one
// GroupNorm, one stride-2 convolution and one set of timestep features.
import * as tf from '@tensorflow/tfjs-core';
import type { NoisyClassifierCard, NoisyClassifierConfig } from './classifierCard';
import { timestepFeatures } from './embedding';
import { ModelLoadError } from './errors';
import {
  conv,
  downsampleConv,
  groupNorm,
  linear,
  silu,
  type ConvParams,
  type LinearParams,
  type NormParams,
} from './layers';
import { Parameters, type Timesteps } from './unet';
import { decodeTensors, type DecodeOptions, type HostTensor } from './weights';

/** Every parameter the PyTorch module has, with its PyTorch shape (conv OIHW, linear [out, in]). */
export function classifierTensorShapes(config: NoisyClassifierConfig): Map<string, number[]> {
  const [c1, c2] = config.channels;
  const e = config.embed_dim;
  const shapes = new Map<string, number[]>();
  const conv3x3 = (prefix: string, cout: number, cin: number) => {
    shapes.set(`${prefix}.weight`, [cout, cin, 3, 3]);
    shapes.set(`${prefix}.bias`, [cout]);
  };
  const linearShape = (prefix: string, out: number, inp: number) => {
    shapes.set(`${prefix}.weight`, [out, inp]);
    shapes.set(`${prefix}.bias`, [out]);
  };
  const norm = (prefix: string) => {
    shapes.set(`${prefix}.weight`, [c2]);
    shapes.set(`${prefix}.bias`, [c2]);
  };
  const block = (prefix: string) => {
    norm(`${prefix}.norm1`);
    conv3x3(`${prefix}.conv1`, c2, c2);
    linearShape(`${prefix}.emb_proj`, c2, e);
    norm(`${prefix}.norm2`);
    conv3x3(`${prefix}.conv2`, c2, c2);
  };
  // In the module's registration order, which is also the order of the weights file.
  linearShape('time_mlp.0', e, config.timestep_features);
  linearShape('time_mlp.2', e, e);
  conv3x3('conv_in', c1, config.in_channels);
  conv3x3('down1', c2, c1);
  block('block2');
  conv3x3('down2', c2, c2);
  block('block3');
  norm('out_norm');
  linearShape('head', config.num_classes, c2);
  return shapes;
}

/** Classifier guidance takes tf.grad through the classifier, on wasm too (see layers.ts ConvMode). */
const GRAD_SAFE = 'differentiable';

interface BlockParams {
  norm1: NormParams;
  conv1: ConvParams;
  embProj: LinearParams;
  norm2: NormParams;
  conv2: ConvParams;
}

export class NoisyClassifier {
  readonly card: NoisyClassifierCard;
  readonly config: NoisyClassifierConfig;
  private readonly params: Parameters;
  private readonly timeMlp: [LinearParams, LinearParams];
  private readonly convIn: ConvParams;
  private readonly down1: ConvParams;
  private readonly block2: BlockParams;
  private readonly down2: ConvParams;
  private readonly block3: BlockParams;
  private readonly outNorm: NormParams;
  private readonly head: LinearParams;
  private disposed = false;

  constructor(card: NoisyClassifierCard, host: Map<string, HostTensor>) {
    this.card = card;
    this.config = card.architecture;
    const p = (this.params = new Parameters(host));
    const block = (prefix: string): BlockParams => ({
      norm1: p.norm(`${prefix}.norm1`),
      conv1: p.conv(`${prefix}.conv1`),
      embProj: p.linear(`${prefix}.emb_proj`),
      norm2: p.norm(`${prefix}.norm2`),
      conv2: p.conv(`${prefix}.conv2`),
    });
    this.timeMlp = [p.linear('time_mlp.0'), p.linear('time_mlp.2')];
    this.convIn = p.conv('conv_in');
    this.down1 = p.conv('down1');
    this.block2 = block('block2');
    this.down2 = p.conv('down2');
    this.block3 = block('block3');
    this.outNorm = p.norm('out_norm');
    this.head = p.linear('head');
  }

  get numClasses(): number {
    return this.config.num_classes;
  }

  /**
   * Class logits [N, num_classes] for noisy images x [N, H, W, C] (NHWC, pixels in [-1, 1] at
   * t = 0) and timesteps t (one per sample, or one for all; fractional allowed). Differentiable in
   * x, so tf.grad can take grad_x log p(y | x_t, t) through it (once
   * '@tensorflow/tfjs-core/dist/register_all_gradients' is imported). The caller disposes the result.
   */
  logits(x: tf.Tensor4D, t: Timesteps): tf.Tensor2D {
    if (this.disposed) throw new Error('NoisyClassifier.logits called after dispose()');
    const [n, h, w, c] = x.shape;
    const { image_size: size, in_channels: channels } = this.config;
    if (h !== size || w !== size || c !== channels) {
      throw new Error(
        `NoisyClassifier input must be [N, ${size}, ${size}, ${channels}], got [${x.shape}]`,
      );
    }
    const timesteps = timestepsForBatch(t, n);
    return tf.tidy(() => this.forward(x, timesteps));
  }

  /** Block(c) of the Python: h + conv2(SiLU(GN2(conv1(SiLU(GN1(h))) + emb_proj(SiLU(emb))))). */
  private block(x: tf.Tensor4D, siluEmb: tf.Tensor2D, p: BlockParams): tf.Tensor4D {
    const { groupnorm_groups: groups, groupnorm_eps: eps } = this.config;
    const [n, , , c] = x.shape;
    let h = conv(silu(groupNorm(x, p.norm1, groups, eps)), p.conv1, GRAD_SAFE);
    h = tf.add(h, tf.reshape(linear(siluEmb, p.embProj), [n, 1, 1, c]));
    return tf.add(x, conv(silu(groupNorm(h, p.norm2, groups, eps)), p.conv2, GRAD_SAFE));
  }

  private forward(x: tf.Tensor4D, timesteps: Float64Array): tf.Tensor2D {
    const { timestep_features: dim, timestep_max_period: period } = this.config;
    const { groupnorm_groups: groups, groupnorm_eps: eps } = this.config;
    const features = tf.tensor2d(timestepFeatures(timesteps, dim, period), [timesteps.length, dim]);
    const [fc1, fc2] = this.timeMlp;
    // Both blocks project SiLU(emb); compute it once.
    const siluEmb = silu(linear(silu(linear(features, fc1)), fc2));
    let h = silu(conv(x, this.convIn, GRAD_SAFE));
    h = this.block(downsampleConv(h, this.down1, GRAD_SAFE), siluEmb, this.block2);
    h = this.block(downsampleConv(h, this.down2, GRAD_SAFE), siluEmb, this.block3);
    const pooled = tf.mean(silu(groupNorm(h, this.outNorm, groups, eps)), [1, 2]) as tf.Tensor2D;
    return linear(pooled, this.head);
  }

  dispose(): void {
    this.params.dispose();
    this.disposed = true;
  }
}

/** One float64 timestep per sample; a single value is shared by the whole batch. */
function timestepsForBatch(t: Timesteps, batch: number): Float64Array {
  // Sync read for a tensor: the features are computed on the host in double precision.
  const values = typeof t === 'number' ? [t] : t instanceof tf.Tensor ? t.dataSync() : t;
  if (values.length !== 1 && values.length !== batch) {
    throw new Error(`NoisyClassifier got ${values.length} timesteps for a batch of ${batch}`);
  }
  const out = new Float64Array(batch);
  for (let i = 0; i < batch; i++) {
    out[i] = values.length === 1 ? values[0] : values[i];
    if (!Number.isFinite(out[i])) throw new Error(`NoisyClassifier timestep ${i} is ${out[i]}`);
  }
  return out;
}

/**
 * Validates the weights against the card (size, sha256, every tensor's name and shape, finite
 * values, parameter count) and builds the classifier.
 */
export async function loadNoisyClassifier(
  card: NoisyClassifierCard,
  weights: ArrayBuffer,
  options: DecodeOptions = {},
): Promise<NoisyClassifier> {
  const expected = classifierTensorShapes(card.architecture);
  let count = 0;
  for (const shape of expected.values()) count += shape.reduce((a, b) => a * b, 1);
  if (card.parameter_count !== count) {
    throw new ModelLoadError(
      options.cardFile ?? 'card.json',
      `parameter_count is ${card.parameter_count}, but the architecture has ${count} parameters`,
    );
  }
  return new NoisyClassifier(card, await decodeTensors(card, expected, weights, options));
}
