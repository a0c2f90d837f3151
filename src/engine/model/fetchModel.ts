// Fetches a model folder (public/models/<id>/) and builds the U-Net: card.json, then the weights
// file it names. Works in a Web Worker and in Node 20 (global fetch).
import { parseModelCard, type ModelCard } from './card';
import { ModelLoadError } from './errors';
import { loadUNet, type UNet } from './unet';

export interface LoadedModel {
  card: ModelCard;
  unet: UNet;
}

export async function fetchOk(url: string, fetchImpl: typeof fetch): Promise<Response> {
  let response: Response;
  try {
    response = await fetchImpl(url);
  } catch (err) {
    throw new ModelLoadError(url, `could not be fetched (${(err as Error).message})`);
  }
  if (!response.ok) throw new ModelLoadError(url, `HTTP ${response.status} ${response.statusText}`);
  return response;
}

/** Fetches and parses a JSON file (a card); unreachable or malformed files name the URL. */
export async function fetchJson(url: string, fetchImpl: typeof fetch): Promise<unknown> {
  try {
    return await (await fetchOk(url, fetchImpl)).json();
  } catch (err) {
    if (err instanceof ModelLoadError) throw err;
    throw new ModelLoadError(url, `is not valid JSON (${(err as Error).message})`);
  }
}

/** `modelUrl` is the folder, e.g. `${import.meta.env.BASE_URL}models/mnist`. */
export async function fetchModel(
  modelUrl: string,
  fetchImpl: typeof fetch = fetch,
): Promise<LoadedModel> {
  const base = modelUrl.endsWith('/') ? modelUrl : `${modelUrl}/`;
  const cardUrl = `${base}card.json`;
  const card = parseModelCard(await fetchJson(cardUrl, fetchImpl), cardUrl);
  const weightsUrl = `${base}${card.weights.file}`;
  const weights = await (await fetchOk(weightsUrl, fetchImpl)).arrayBuffer();
  const unet = await loadUNet(card, weights, { cardFile: cardUrl, weightsFile: weightsUrl });
  return { card, unet };
}
