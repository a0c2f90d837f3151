// Fetches a noisy-classifier folder (public/models/<id>-classifier/) and builds the classifier:
// card.json, then the weights file it names. Works in a Web Worker and in Node 20 (global fetch),
// with the same errors as fetchModel (each names the URL it is about).
import { parseClassifierCard, type NoisyClassifierCard } from './classifierCard';
import { fetchJson, fetchOk } from './fetchModel';
import { loadNoisyClassifier, type NoisyClassifier } from './noisyClassifier';

export interface LoadedClassifier {
  card: NoisyClassifierCard;
  classifier: NoisyClassifier;
}

/** `modelUrl` is the folder, e.g. `${import.meta.env.BASE_URL}models/mnist-classifier`. */
export async function fetchNoisyClassifier(
  modelUrl: string,
  fetchImpl: typeof fetch = fetch,
): Promise<LoadedClassifier> {
  const base = modelUrl.endsWith('/') ? modelUrl : `${modelUrl}/`;
  const cardUrl = `${base}card.json`;
  const card = parseClassifierCard(await fetchJson(cardUrl, fetchImpl), cardUrl);
  const weightsUrl = `${base}${card.weights.file}`;
  const weights = await (await fetchOk(weightsUrl, fetchImpl)).arrayBuffer();
  const classifier = await loadNoisyClassifier(card, weights, {
    cardFile: cardUrl,
    weightsFile: weightsUrl,
  });
  return { card, classifier };
}
