// The text encoder of training/emoji/text_encoder.py (CLIP's text-model layout, parameter names as
// transformers' CLIPTextModel): token + position embeddings -> pre-LayerNorm transformer layers
// (bidirectional self-attention, quick_gelu MLP) -> final LayerNorm. The whole sequence
// [B, L, hidden] is the U-Net's cross-attention context; no mask (padding tokens are real tokens).
import * as tf from '@tensorflow/tfjs-core';
import { attentionCore, type NormParams } from '../model/layers';
import type { HostTensor } from '../model/weights';
import { fusedAttention, wasmKernelsReady } from '../kernels';
import type { TextEncoderConfig } from './config';
import { dense, layerNorm, ParamStore, quickGelu, type MaybeBiasedLinear } from './nn';

const PREFIX = 'text_model';

/** Every parameter with its PyTorch shape ([out, in] for linears). */
export function textEncoderTensorShapes(c: TextEncoderConfig): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const d = c.hidden_size;
  const linear = (p: string, out: number, inp: number) => {
    shapes.set(`${p}.weight`, [out, inp]);
    shapes.set(`${p}.bias`, [out]);
  };
  const norm = (p: string) => {
    shapes.set(`${p}.weight`, [d]);
    shapes.set(`${p}.bias`, [d]);
  };
  shapes.set(`${PREFIX}.embeddings.token_embedding.weight`, [c.vocab_size, d]);
  shapes.set(`${PREFIX}.embeddings.position_embedding.weight`, [c.max_position_embeddings, d]);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `${PREFIX}.encoder.layers.${i}`;
    norm(`${p}.layer_norm1`);
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      linear(`${p}.self_attn.${proj}`, d, d);
    }
    norm(`${p}.layer_norm2`);
    linear(`${p}.mlp.fc1`, c.intermediate_size, d);
    linear(`${p}.mlp.fc2`, d, c.intermediate_size);
  }
  norm(`${PREFIX}.final_layer_norm`);
  return shapes;
}

interface EncoderLayer {
  norm1: NormParams;
  qkv: MaybeBiasedLinear;
  out: MaybeBiasedLinear;
  norm2: NormParams;
  fc1: MaybeBiasedLinear;
  fc2: MaybeBiasedLinear;
}

export class EmojiTextEncoder {
  readonly config: TextEncoderConfig;
  private readonly params: ParamStore;
  private readonly tokenEmbedding: tf.Tensor2D;
  private readonly positionEmbedding: tf.Tensor2D;
  private readonly layers: EncoderLayer[];
  private readonly finalNorm: NormParams;
  private disposed = false;

  constructor(config: TextEncoderConfig, host: Map<string, HostTensor>) {
    this.config = config;
    const p = (this.params = new ParamStore(host));
    this.tokenEmbedding = p.matrix(`${PREFIX}.embeddings.token_embedding.weight`);
    this.positionEmbedding = p.matrix(`${PREFIX}.embeddings.position_embedding.weight`);
    this.layers = Array.from({ length: config.num_hidden_layers }, (_, i) => {
      const l = `${PREFIX}.encoder.layers.${i}`;
      const attn = `${l}.self_attn`;
      return {
        norm1: p.norm(`${l}.layer_norm1`),
        qkv: p.stackedLinear([`${attn}.q_proj`, `${attn}.k_proj`, `${attn}.v_proj`], true),
        out: p.linear(`${attn}.out_proj`),
        norm2: p.norm(`${l}.layer_norm2`),
        fc1: p.linear(`${l}.mlp.fc1`),
        fc2: p.linear(`${l}.mlp.fc2`),
      };
    });
    this.finalNorm = p.norm(`${PREFIX}.final_layer_norm`);
  }

  /** Token ids [B][L] (L <= max_position_embeddings) -> last hidden state [B, L, hidden]. */
  encode(ids: number[][]): tf.Tensor3D {
    if (this.disposed) throw new Error('EmojiTextEncoder.encode called after dispose()');
    const { vocab_size: vocab, max_position_embeddings: maxLen } = this.config;
    const length = ids[0]?.length ?? 0;
    if (ids.length === 0 || length === 0 || length > maxLen) {
      throw new Error(`TextEncoder needs 1..${maxLen} tokens per prompt, got ${length}`);
    }
    const flat = new Int32Array(ids.length * length);
    ids.forEach((row, b) => {
      if (row.length !== length) throw new Error('TextEncoder: prompts of different lengths');
      row.forEach((id, j) => {
        if (!Number.isInteger(id) || id < 0 || id >= vocab) {
          throw new Error(
            `TextEncoder: token id ${id} is outside the vocabulary (0..${vocab - 1})`,
          );
        }
        flat[b * length + j] = id;
      });
    });
    return tf.tidy(() => this.forward(tf.tensor2d(flat, [ids.length, length], 'int32')));
  }

  private forward(ids: tf.Tensor2D): tf.Tensor3D {
    const [b, length] = ids.shape;
    const d = this.config.hidden_size;
    const eps = this.config.layer_norm_eps;
    const heads = this.config.num_attention_heads;
    const tokens = tf.reshape(tf.gather(this.tokenEmbedding, tf.reshape(ids, [-1])), [
      b,
      length,
      d,
    ]);
    const positions = tf.slice(this.positionEmbedding, [0, 0], [length, d]);
    let x: tf.Tensor3D = tf.add(tokens, positions);
    const core = wasmKernelsReady() ? fusedAttention : attentionCore;
    for (const layer of this.layers) {
      const mixed = core(dense(layerNorm(x, layer.norm1, eps), layer.qkv), heads);
      x = tf.add(x, dense(mixed, layer.out));
      const hidden = quickGelu(dense(layerNorm(x, layer.norm2, eps), layer.fc1));
      x = tf.add(x, dense(hidden, layer.fc2));
    }
    return layerNorm(x, this.finalNorm, eps);
  }

  dispose(): void {
    this.params.dispose();
    this.disposed = true;
  }
}
