// Loads the super-resolution pipeline folder (public/models/emoji-sr/): card.json, unet/config.json
// and the float16 safetensors weights, checked (size and sha256 against the card, every tensor's
// name and shape against the config, finite values) before the network is built. Works in a Web
// Worker and in Node 20 (global fetch, or files read by the caller).
import { ModelLoadError } from '../model/errors';
import { fetchJson, fetchOk } from '../model/fetchModel';
import { decodeTensors, type HostTensor } from '../model/weights';
import type { TensorEntry, WeightDtype } from '../model/card';
import { prepareWasmKernels } from '../kernels';
import { parseSRCard, parseSRUNetConfig, type SRCard, type SRUNetConfig } from './srCard';
import { expectedSRTensorShapes, SRUNet } from './srUNet';

const DTYPES: Record<string, WeightDtype> = { F16: 'float16', F32: 'float32' };

/** The tensors a .safetensors file declares (training/emoji/safetensors_io.py), as absolute byte ranges. */
export function safetensorsEntries(buffer: ArrayBuffer, file: string): TensorEntry[] {
  const fail = (problem: string): never => {
    throw new ModelLoadError(file, problem);
  };
  if (buffer.byteLength < 8) fail('is shorter than the 8-byte safetensors header length');
  const view = new DataView(buffer);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  const dataStart = 8 + headerLength;
  if (dataStart > buffer.byteLength)
    fail(`safetensors header length ${headerLength} runs past the end`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, headerLength)));
  } catch (err) {
    return fail(`safetensors header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    return fail('safetensors header is not an object');
  const entries: TensorEntry[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const rec = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = DTYPES[String(rec?.dtype)];
    if (!dtype) fail(`tensor ${name}: dtype ${JSON.stringify(rec?.dtype)} (expected F16 or F32)`);
    const shape = rec.shape;
    const offsets = rec.data_offsets;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      fail(`tensor ${name}: bad shape`);
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[1] < offsets[0]
    ) {
      fail(`tensor ${name}: data_offsets must be [begin, end]`);
    }
    const [begin, end] = offsets as [number, number];
    entries.push({
      name,
      shape: shape as number[],
      dtype,
      offset: dataStart + begin,
      length: end - begin,
    });
  }
  return entries;
}

export interface LoadedSR {
  card: SRCard;
  config: SRUNetConfig;
  unet: SRUNet;
}

/** Builds the pipeline from its parsed files (Node tests and the CLI read them from disk). */
export async function loadSRFromFiles(
  cardJson: unknown,
  configJson: unknown,
  weights: ArrayBuffer,
  names: { card?: string; config?: string; weights?: string } = {},
): Promise<LoadedSR> {
  const card = parseSRCard(cardJson, names.card ?? 'card.json');
  const configFile = names.config ?? card.unet.config;
  const weightsFile = names.weights ?? card.unet.weights.file;
  const config = parseSRUNetConfig(configJson, configFile);
  const [h, w] = card.imageShape;
  if (config.sample_size !== h || config.low_res_size * 2 !== h || h !== w) {
    throw new ModelLoadError(
      configFile,
      `sample_size ${config.sample_size} / low_res_size ${config.low_res_size} disagree with the card's ${h}x${w}`,
    );
  }
  if (buffersTooSmall(weights, card)) {
    const hint = weights.byteLength < card.unet.weights.byte_length ? ' (truncated download?)' : '';
    throw new ModelLoadError(
      weightsFile,
      `is ${weights.byteLength} bytes but ${names.card ?? 'card.json'} says ${card.unet.weights.byte_length}${hint}`,
    );
  }
  const tensors = safetensorsEntries(weights, weightsFile);
  const manifest = {
    weights: {
      file: weightsFile,
      dtype: 'float16',
      byte_order: 'little',
      byte_length: card.unet.weights.byte_length,
      sha256: card.unet.weights.sha256,
    },
    tensors,
  };
  const host: Map<string, HostTensor> = await decodeTensors(
    manifest,
    expectedSRTensorShapes(config),
    weights,
    {
      weightsFile,
      cardFile: weightsFile,
    },
  );
  await prepareWasmKernels(); // on wasm; a no-op elsewhere
  return { card, config, unet: new SRUNet(config, host) };
}

function buffersTooSmall(weights: ArrayBuffer, card: SRCard): boolean {
  return weights.byteLength !== card.unet.weights.byte_length;
}

/** `url` is the pipeline folder, e.g. `${import.meta.env.BASE_URL}models/emoji-sr`. */
export async function fetchSR(url: string, fetchImpl: typeof fetch = fetch): Promise<LoadedSR> {
  const base = url.endsWith('/') ? url : `${url}/`;
  const cardUrl = `${base}card.json`;
  const cardJson = await fetchJson(cardUrl, fetchImpl);
  const card = parseSRCard(cardJson, cardUrl);
  const configUrl = `${base}${card.unet.config}`;
  const weightsUrl = `${base}${card.unet.weights.file}`;
  const [configJson, weights] = await Promise.all([
    fetchJson(configUrl, fetchImpl),
    fetchOk(weightsUrl, fetchImpl).then((r) => r.arrayBuffer()),
  ]);
  return loadSRFromFiles(cardJson, configJson, weights, {
    card: cardUrl,
    config: configUrl,
    weights: weightsUrl,
  });
}
