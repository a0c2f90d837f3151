// The emoji text-to-image pipeline, loaded from its diffusers-style folder (public/models/emoji/):
// model_index.json and card.json, then every component's config, the vocabulary and the weights,
// each checked on its own and against the others before anything runs. Works in a Web Worker and
// in Node (any fetch).
import * as tf from '@tensorflow/tfjs-core';
import { ModelLoadError } from '../model/errors';
import { fetchJson, fetchOk } from '../model/fetchModel';
import type { RunModel } from '../run/diffusionRun';
import { prepareWasmKernels } from '../kernels';
import {
  parseLatentUNetConfig,
  parseTextEncoderConfig,
  parseTokenizerConfig,
  parseVaeConfig,
  parseVocab,
  type LatentUNetConfig,
  type TextEncoderConfig,
  type VaeConfig,
} from './config';
import { LatentUNet, latentUNetTensorShapes } from './latentUnet';
import { checkModelIndex, parsePipelineCard, type PipelineCard } from './pipelineCard';
import { decodeSafetensors } from './safetensors';
import { EmojiTextEncoder, textEncoderTensorShapes } from './textEncoder';
import { TextLatentDenoiser } from './textLatentDenoiser';
import { WordTokenizer, type TokenizedPrompt } from './tokenizer';
import { Autoencoder, vaeTensorShapes } from './vae';

/** What the tokenizer made of a prompt (as the UI shows it). */
export interface PromptReport {
  unknown: string[];
  truncated: boolean;
  /** Known words kept. */
  words: number;
}

export interface EncodedPrompt {
  /** [1, L, D], the caller disposes it. */
  hidden: tf.Tensor3D;
  ids: number[];
  unknown: string[];
  truncated: boolean;
}

function report(t: TokenizedPrompt): PromptReport {
  return { unknown: t.unknown, truncated: t.truncated, words: t.words.length };
}

export class EmojiPipeline {
  readonly card: PipelineCard;
  readonly tokenizer: WordTokenizer;
  readonly textEncoder: EmojiTextEncoder;
  readonly unet: LatentUNet;
  readonly vae: Autoencoder;
  readonly denoiser: TextLatentDenoiser;
  /** The training noise schedule (scheduler/scheduler_config.json, diffusers keys). */
  readonly scheduleConfig: Record<string, unknown>;
  /** What a DiffusionRun needs: class 0 = prompt, 1 = negative prompt. */
  readonly runModel: RunModel;
  /** [h, w, c] of one latent (what the run denoises), e.g. [8, 8, 4]. */
  readonly latentShape: readonly [number, number, number];
  /** [h, w, c] of one image, e.g. [32, 32, 3]. */
  readonly pixelShape: readonly [number, number, number];
  private readonly latentMean: tf.Tensor1D;
  private readonly latentStd: tf.Tensor1D;

  constructor(parts: {
    card: PipelineCard;
    tokenizer: WordTokenizer;
    textEncoder: EmojiTextEncoder;
    unet: LatentUNet;
    vae: Autoencoder;
    scheduleConfig: Record<string, unknown>;
  }) {
    this.card = parts.card;
    this.tokenizer = parts.tokenizer;
    this.textEncoder = parts.textEncoder;
    this.unet = parts.unet;
    this.vae = parts.vae;
    this.scheduleConfig = parts.scheduleConfig;
    const empty = this.encodePrompt('').hidden;
    const prediction = parts.scheduleConfig.prediction_type as 'epsilon' | 'v_prediction';
    this.denoiser = new TextLatentDenoiser(this.unet, prediction, empty);
    empty.dispose();
    this.runModel = { denoiser: this.denoiser, numClasses: 1, scheduleConfig: this.scheduleConfig };
    this.latentShape = this.denoiser.imageShape;
    const v = this.vae.config;
    this.pixelShape = [v.sample_size, v.sample_size, v.out_channels];
    // z = latents * std / scaling_factor + mean (diffusers' latents_mean / latents_std formula).
    this.latentMean = tf.keep(tf.tensor1d(v.latents_mean));
    this.latentStd = tf.keep(tf.tensor1d(v.latents_std.map((s) => s / v.scaling_factor)));
  }

  /** The prompt through tokenizer and text encoder. */
  encodePrompt(text: string): EncodedPrompt {
    const t = this.tokenizer.encode(text);
    return {
      hidden: this.textEncoder.encode([t.ids]),
      ids: t.ids,
      unknown: t.unknown,
      truncated: t.truncated,
    };
  }

  /**
   * Encodes both prompts and hands them to the denoiser (between any two steps of a run): the
   * negative prompt replaces the unconditional branch of classifier-free guidance.
   */
  setPrompt(prompt: string, negativePrompt = ''): { prompt: PromptReport; negative: PromptReport } {
    const cond = this.encodePrompt(prompt);
    const uncond = this.encodePrompt(negativePrompt);
    try {
      this.denoiser.setPrompt(cond.hidden, uncond.hidden);
    } finally {
      tf.dispose([cond.hidden, uncond.hidden]);
    }
    return {
      prompt: report(this.tokenizer.encode(prompt)),
      negative: report(this.tokenizer.encode(negativePrompt)),
    };
  }

  /** Normalised latents [B, 8, 8, 4] -> pixels [B, 32, 32, 3] NHWC, clamped to [-1, 1]. */
  decode(latents: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const z = tf.add(tf.mul(latents, this.latentStd), this.latentMean) as tf.Tensor4D;
      return tf.clipByValue(this.vae.decode(z), -1, 1);
    });
  }

  /**
   * Pixels [B, 32, 32, 3] in [-1, 1] -> normalised latents: the posterior mean, or with `noise`
   * (N(0, 1), the latents' shape) the sample mean + exp(logvar / 2) * noise.
   */
  encode(images: tf.Tensor4D, noise?: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const { mean, logvar } = this.vae.encode(images);
      const z = noise ? tf.add(mean, tf.mul(tf.exp(tf.mul(logvar, 0.5)), noise)) : mean;
      return tf.div(tf.sub(z, this.latentMean), this.latentStd) as tf.Tensor4D;
    });
  }

  dispose(): void {
    this.denoiser.dispose();
    this.textEncoder.dispose();
    this.unet.dispose();
    this.vae.dispose();
    tf.dispose([this.latentMean, this.latentStd]);
  }
}

/** The components' configs, checked against each other; `files` names them in messages. */
export function checkComponentsAgree(
  c: {
    unet: LatentUNetConfig;
    text: TextEncoderConfig;
    vae: VaeConfig;
    vocabSize: number;
    maxLength: number;
    tokenizerVocabSize?: unknown;
  },
  files: { unet: string; text: string; vae: string; vocab: string; tokenizer: string },
): void {
  const fail = (file: string, problem: string): never => {
    throw new ModelLoadError(file, problem);
  };
  if (c.text.vocab_size !== c.vocabSize) {
    fail(
      files.text,
      `vocab_size is ${c.text.vocab_size} but ${files.vocab} has ${c.vocabSize} words`,
    );
  }
  if (c.tokenizerVocabSize !== undefined && c.tokenizerVocabSize !== c.vocabSize) {
    fail(
      files.tokenizer,
      `vocab_size is ${JSON.stringify(c.tokenizerVocabSize)} but ${files.vocab} has ${c.vocabSize} words`,
    );
  }
  if (c.maxLength > c.text.max_position_embeddings) {
    fail(
      files.tokenizer,
      `model_max_length ${c.maxLength} is more than the text encoder's ` +
        `max_position_embeddings ${c.text.max_position_embeddings} (${files.text})`,
    );
  }
  if (c.unet.cross_attention_dim !== c.text.hidden_size) {
    fail(
      files.unet,
      `cross_attention_dim is ${c.unet.cross_attention_dim} but the text encoder's hidden_size ` +
        `is ${c.text.hidden_size} (${files.text})`,
    );
  }
  if (
    c.unet.in_channels !== c.vae.latent_channels ||
    c.unet.out_channels !== c.vae.latent_channels
  ) {
    fail(
      files.unet,
      `in_channels ${c.unet.in_channels} / out_channels ${c.unet.out_channels} do not match the ` +
        `autoencoder's latent_channels ${c.vae.latent_channels} (${files.vae})`,
    );
  }
  const factor = 2 ** (c.vae.block_out_channels.length - 1);
  if (c.unet.sample_size * factor !== c.vae.sample_size) {
    fail(
      files.unet,
      `sample_size ${c.unet.sample_size} x ${factor} is not the autoencoder's sample_size ` +
        `${c.vae.sample_size} (${files.vae})`,
    );
  }
}

function scheduleFrom(json: unknown, file: string, card: PipelineCard): Record<string, unknown> {
  const fail = (problem: string): never => {
    throw new ModelLoadError(file, problem);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return fail('not a JSON object');
  const config: Record<string, unknown> = { ...(json as Record<string, unknown>) };
  if (typeof config.num_train_timesteps !== 'number') fail('num_train_timesteps must be a number');
  if (typeof config.beta_schedule !== 'string') fail('beta_schedule must be a name');
  const prediction = config.prediction_type ?? 'epsilon';
  if (prediction !== 'v_prediction' && prediction !== 'epsilon') {
    fail(`prediction_type ${JSON.stringify(prediction)} is not v_prediction or epsilon`);
  }
  if (prediction !== card.prediction_type) {
    fail(`prediction_type ${prediction} but card.json says ${card.prediction_type}`);
  }
  config.prediction_type = prediction;
  delete config._class_name;
  return config;
}

async function fetchBuffer(url: string, fetchImpl: typeof fetch): Promise<ArrayBuffer> {
  return (await fetchOk(url, fetchImpl)).arrayBuffer();
}

/**
 * Loads the pipeline at `baseUrl` (the folder holding model_index.json). Any missing, malformed or
 * mismatched file throws a ModelLoadError naming the file and the problem.
 */
export async function loadEmojiPipeline(
  baseUrl: string,
  fetchImpl: typeof fetch = fetch,
): Promise<EmojiPipeline> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const at = (path: string) => `${base}${path}`;
  const [index, cardJson] = await Promise.all([
    fetchJson(at('model_index.json'), fetchImpl),
    fetchJson(at('card.json'), fetchImpl),
  ]);
  checkModelIndex(index, at('model_index.json'));
  const card = parsePipelineCard(cardJson, at('card.json'), index);
  const c = card.components;
  const files = {
    unet: at(c.unet.config),
    text: at(c.text_encoder.config),
    vae: at(c.vae.config),
    tokenizer: at(c.tokenizer.config),
    vocab: at(c.tokenizer.vocab as string),
    scheduler: at(c.scheduler.config),
  };
  const [unetJson, textJson, vaeJson, tokJson, vocabJson, schedJson] = await Promise.all(
    [files.unet, files.text, files.vae, files.tokenizer, files.vocab, files.scheduler].map((u) =>
      fetchJson(u, fetchImpl),
    ),
  );
  const unetConfig = parseLatentUNetConfig(unetJson, files.unet);
  const textConfig = parseTextEncoderConfig(textJson, files.text);
  const vaeConfig = parseVaeConfig(vaeJson, files.vae);
  const tokConfig = parseTokenizerConfig(tokJson, files.tokenizer);
  const vocab = parseVocab(vocabJson, files.vocab);
  const scheduleConfig = scheduleFrom(schedJson, files.scheduler, card);
  checkComponentsAgree(
    {
      unet: unetConfig,
      text: textConfig,
      vae: vaeConfig,
      vocabSize: vocab.length,
      maxLength: tokConfig.model_max_length,
      tokenizerVocabSize: (tokJson as Record<string, unknown>).vocab_size,
    },
    files,
  );

  const weights = [
    { record: c.unet.weights!, config: files.unet, shapes: latentUNetTensorShapes(unetConfig) },
    {
      record: c.text_encoder.weights!,
      config: files.text,
      shapes: textEncoderTensorShapes(textConfig),
    },
    { record: c.vae.weights!, config: files.vae, shapes: vaeTensorShapes(vaeConfig) },
  ];
  const [unetHost, textHost, vaeHost] = await Promise.all(
    weights.map(async ({ record, config, shapes }) => {
      const url = at(record.file);
      const buffer = await fetchBuffer(url, fetchImpl);
      return decodeSafetensors(buffer, record, shapes, {
        weights: url,
        card: at('card.json'),
        config,
      });
    }),
  );
  await prepareWasmKernels(); // on wasm; a no-op elsewhere
  return new EmojiPipeline({
    card,
    tokenizer: new WordTokenizer(vocab, tokConfig.model_max_length),
    textEncoder: new EmojiTextEncoder(textConfig, textHost),
    unet: new LatentUNet(unetConfig, unetHost),
    vae: new Autoencoder(vaeConfig, vaeHost),
    scheduleConfig,
  });
}
