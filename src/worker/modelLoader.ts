// Loads a model folder into the worker, reporting download progress in bytes. A model that fails
// to load throws a ModelLoadError naming the file and the problem; the caller keeps the old model.
// The weights' bytes stay in memory so the U-Net can be rebuilt on a new backend after a lost GPU
// device without downloading them again.
import {
  loadUNet,
  ModelLoadError,
  parseModelCard,
  runModelFromUNet,
  warmUp,
} from '../engine/model';
import type { ModelCard, UNet } from '../engine/model';
import type { DenoiseModel } from '../engine/denoiser';
import type { ClassifierSlot, RunModel } from '../engine/run/diffusionRun';
import { CLASSIFIER_LOADING, classifierUrlFor, loadClassifierInto } from './classifierLoader';
import type { ModelInfo } from './protocol';
import { isPipelineCard, loadWorkerPipeline } from './pipelineLoader';
import { openWeightsCache, readCachedWeights, storeWeights } from './weightsCache';

export interface LoadedWorkerModel {
  info: ModelInfo;
  /** Stays valid across rebuild(): it always predicts with the current U-Net. */
  runModel: RunModel;
  /** Frees the U-Net's tensors; the bytes stay for rebuild(). */
  releaseTensors(): void;
  /** Builds the U-Net again on the current backend from the kept bytes (checked at load). */
  rebuild(): Promise<void>;
  /** One throw-away evaluation at `batch` (see engine/model/warmUp.ts); the ms it took. */
  warmUp(batch: number): Promise<number>;
  /** Loads (again) the noisy classifier for classifier guidance into runModel.classifier. */
  loadClassifier(): Promise<ClassifierSlot>;
  dispose(): void;
}

export type Progress = (loadedBytes: number, totalBytes: number | null) => void;

/** A card bigger than this is not a card (the shipped ones are ~25 kB). */
export const MAX_CARD_BYTES = 4 * 1024 * 1024;

/** A weights file name: a plain name inside the model's folder, never a path or a URL. */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

async function fetchOk(url: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new ModelLoadError(url, `could not be fetched (${(err as Error).message})`);
  }
  if (!response.ok) throw new ModelLoadError(url, `HTTP ${response.status} ${response.statusText}`);
  // Single-page hosts answer a missing file with their index.html and status 200.
  if (/^text\/html\b/i.test(response.headers.get('content-type') ?? '')) {
    await response.body?.cancel();
    throw new ModelLoadError(url, 'is an HTML page, not a model file (is the model missing here?)');
  }
  return response;
}

/**
 * The body, counting bytes as they arrive, refused as soon as it is longer than `limit`: a wrong
 * or hostile server cannot make the worker hold an unbounded download.
 */
async function readBody(
  url: string,
  response: Response,
  limit: number,
  tooBig: (bytes: string) => string,
  onProgress?: Progress,
): Promise<ArrayBuffer> {
  const header = response.headers.get('content-length');
  const declared = header && !response.headers.get('content-encoding') ? Number(header) : null;
  if (declared !== null && declared > limit) {
    await response.body?.cancel();
    throw new ModelLoadError(url, tooBig(String(declared)));
  }
  if (!response.body) return response.arrayBuffer();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    loaded += value.byteLength;
    if (loaded > limit) {
      await reader.cancel();
      throw new ModelLoadError(url, tooBig(`more than ${limit}`));
    }
    chunks.push(value);
    onProgress?.(loaded, declared);
  }
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes.buffer;
}

/** What the model list says about a model must agree with its card, before any download. */
export function checkCardFitsListing(card: ModelCard, id: string, cardUrl: string): void {
  const fail = (problem: string): never => {
    throw new ModelLoadError(cardUrl, problem);
  };
  if (card.id !== id) {
    fail(`is the card of model "${card.id}", but the model list names it "${id}"`);
  }
  if (!FILE_NAME.test(card.weights.file)) {
    fail(
      `weights.file ${JSON.stringify(card.weights.file)} must be a file name in the model's folder`,
    );
  }
  const { in_channels: inChannels, out_channels: outChannels } = card.architecture;
  if (outChannels !== inChannels) {
    fail(`architecture predicts ${outChannels} channels for ${inChannels} input channels`);
  }
  const length = card.weights.byte_length;
  if (!Number.isSafeInteger(length) || length <= 0) {
    fail(`weights.byte_length ${length} is not a positive whole number of bytes`);
  }
}

async function fetchCardJson(cardUrl: string): Promise<unknown> {
  const response = await fetchOk(cardUrl);
  const bytes = await readBody(
    cardUrl,
    response,
    MAX_CARD_BYTES,
    (n) => `is ${n} bytes; a model card is at most ${MAX_CARD_BYTES}`,
  );
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new ModelLoadError(cardUrl, `is not valid JSON (${(err as Error).message})`);
  }
}

export async function loadWorkerModel(
  id: string,
  url: string,
  onProgress: Progress,
): Promise<LoadedWorkerModel> {
  const base = url.endsWith('/') ? url : `${url}/`;
  const cardUrl = `${base}card.json`;
  const json = await fetchCardJson(cardUrl);
  // A pipeline (text encoder, U-Net, autoencoder, ...) has its own loader and the same result.
  if (isPipelineCard(json)) {
    const id_ = (json as { id?: unknown }).id;
    if (id_ !== id) {
      throw new ModelLoadError(
        cardUrl,
        `is the card of model "${String(id_)}", but the model list names it "${id}"`,
      );
    }
    return loadWorkerPipeline(id, base, json, onProgress);
  }
  const card = parseModelCard(json, cardUrl);
  checkCardFitsListing(card, id, cardUrl);
  const weightsUrl = `${base}${card.weights.file}`;
  const expected = card.weights.byte_length;
  const names = { cardFile: cardUrl, weightsFile: weightsUrl };
  // A cached copy is used only if it has the card's sha256 (checked there); else download.
  const cache = await openWeightsCache();
  const expectedHash = { sha256: card.weights.sha256, byteLength: expected };
  const cached = cache ? await readCachedWeights(cache, weightsUrl, expectedHash) : null;
  let weights: ArrayBuffer;
  let unet: UNet;
  if (cached?.kind === 'hit') {
    weights = cached.bytes;
    onProgress(expected, expected);
    unet = await loadUNet(card, weights, { ...names, skipChecksum: true });
  } else {
    weights = await readBody(
      weightsUrl,
      await fetchOk(weightsUrl),
      expected,
      (n) => `is ${n} bytes but ${cardUrl} says ${expected}`,
      // A compressed response declares no usable length: the card's byte length is the total.
      (loaded, declared) => onProgress(loaded, declared ?? expected),
    );
    unet = await loadUNet(card, weights, names);
    // Only bytes that passed every check of loadUNet are kept for the next visit.
    if (cache) await storeWeights(cache, weightsUrl, card.weights.sha256, weights);
  }
  let current: RunModel;
  try {
    current = runModelFromUNet(unet, card);
  } catch (err) {
    unet.dispose();
    throw new ModelLoadError(cardUrl, (err as Error).message);
  }
  // The run keeps this object for its whole life; rebuild() swaps the U-Net underneath it.
  const denoiser: DenoiseModel = {
    ...current.denoiser,
    predict: (x, timesteps, classes) => current.denoiser.predict(x, timesteps, classes),
  };
  let released = false;
  const classifier: ClassifierSlot = { guide: null, problem: CLASSIFIER_LOADING };
  const classifierUrl = classifierUrlFor(base, card.dataset.id);
  const release = () => {
    if (released) return;
    released = true;
    try {
      unet.dispose();
      classifier.guide?.classifier.dispose?.();
    } catch {
      // The backend that held the tensors is already gone: nothing is left to free.
    }
    classifier.guide = null;
  };
  const loadClassifier = async () => {
    await loadClassifierInto(classifier, classifierUrl);
    return classifier;
  };
  return {
    runModel: { ...current, denoiser, classifier },
    releaseTensors: release,
    async rebuild() {
      release();
      unet = await loadUNet(card, weights, { ...names, skipChecksum: true });
      current = runModelFromUNet(unet, card);
      released = false;
      await loadClassifier();
    },
    warmUp: (batch) => warmUp(unet, batch),
    loadClassifier,
    dispose: release,
    info: {
      id,
      name: card.name,
      classLabels: card.class_labels.map(String),
      nullClassId: card.null_class_id,
      imageSize: card.architecture.image_size,
      channels: card.architecture.in_channels,
      parameterCount: card.parameter_count,
      schedule: {
        num_train_timesteps: card.scheduler.num_train_timesteps,
        beta_schedule: String(card.scheduler.beta_schedule),
        beta_start: Number(card.scheduler.beta_start ?? 0.0001),
        beta_end: Number(card.scheduler.beta_end ?? 0.02),
      },
    },
  };
}
