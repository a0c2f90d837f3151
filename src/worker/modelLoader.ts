// Loads a model folder into the worker, reporting download progress in bytes. A model that fails
// to load throws a ModelLoadError naming the file and the problem; the caller keeps the old model.
import { fetchModel, ModelLoadError, runModelFromUNet } from '../engine/model';
import type { UNet } from '../engine/model';
import type { RunModel } from '../engine/run/diffusionRun';
import type { ModelInfo } from './protocol';

export interface LoadedWorkerModel {
  info: ModelInfo;
  runModel: RunModel;
  unet: UNet;
}

export type Progress = (loadedBytes: number, totalBytes: number | null) => void;

/** A fetch whose response bodies count the bytes as they arrive. */
function countingFetch(onProgress: Progress): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (!response.ok || !response.body) return response;
    const header = response.headers.get('content-length');
    const total = header && !response.headers.get('content-encoding') ? Number(header) : null;
    let loaded = 0;
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        loaded += chunk.byteLength;
        onProgress(loaded, total);
        controller.enqueue(chunk);
      },
    });
    return new Response(response.body.pipeThrough(counter), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

export async function loadWorkerModel(
  id: string,
  url: string,
  onProgress: Progress,
): Promise<LoadedWorkerModel> {
  const { card, unet } = await fetchModel(url, countingFetch(onProgress));
  let runModel: RunModel;
  try {
    runModel = runModelFromUNet(unet, card);
  } catch (err) {
    unet.dispose();
    throw new ModelLoadError(`${url}/card.json`, (err as Error).message);
  }
  return {
    unet,
    runModel,
    info: {
      id,
      name: card.name,
      classLabels: card.class_labels.map(String),
      nullClassId: card.null_class_id,
      imageSize: card.architecture.image_size,
      channels: card.architecture.in_channels,
      parameterCount: card.parameter_count,
    },
  };
}
