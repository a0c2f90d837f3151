// The noisy-image classifier that classifier guidance needs, loaded beside a model: the folder
// `<dataset id>-classifier/` next to the model's own (both MNIST models share mnist-classifier;
// a classifier trained on another noise schedule is matched by noise level, see
// engine/classifierGuidance.ts). Loaded after the model, so the model is usable at once; a run
// that asks for classifier guidance before it has arrived is told so.
import { ClassifierGuide } from '../engine/classifierGuidance';
import { fetchNoisyClassifier } from '../engine/model/fetchClassifier';
import type { NoiseScheduleConfig } from '../engine/schedule/betas';
import type { ClassifierSlot } from '../engine/run/diffusionRun';

export const CLASSIFIER_LOADING = 'the noisy classifier is still loading';

/** The classifier folder for a model folder URL and its data set. */
export function classifierUrlFor(modelUrl: string, datasetId: string): string {
  const base = modelUrl.endsWith('/') ? modelUrl : `${modelUrl}/`;
  return new URL(`../${datasetId}-classifier/`, base).href;
}

/** Fills `slot` (guide or problem); the previous guide, if any, is freed. Never throws. */
export async function loadClassifierInto(slot: ClassifierSlot, url: string): Promise<void> {
  try {
    slot.guide?.classifier.dispose?.();
  } catch {
    // Its backend is gone (a lost device): nothing left to free.
  }
  slot.guide = null;
  slot.problem = CLASSIFIER_LOADING;
  try {
    const { card, classifier } = await fetchNoisyClassifier(url);
    slot.guide = new ClassifierGuide(classifier, card.scheduler as unknown as NoiseScheduleConfig);
    slot.problem = null;
  } catch (err) {
    slot.problem = `no noisy classifier could be loaded from ${url} (${(err as Error).message})`;
  }
}
