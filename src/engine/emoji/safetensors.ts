// The .safetensors format (training/emoji/safetensors_io.py writes it): an 8-byte little-endian
// header length N, N bytes of JSON {"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
// "__metadata__"}, then the raw tensor bytes, offsets relative to the end of the header. Here the
// header becomes the tensor manifest the existing loader (model/weights.ts decodeTensors) checks:
// byte length and sha256 against the pipeline card, each tensor's shape against what the
// component's config.json implies, and every value finite; float16 becomes float32.
import type { TensorEntry, WeightDtype } from '../model/card';
import { ModelLoadError } from '../model/errors';
import { decodeTensors, type HostTensor } from '../model/weights';

/** The card's record of a weights file (components.<name>.weights in card.json). */
export interface WeightsRecord {
  file: string;
  byte_length: number;
  sha256: string;
}

const DTYPES: Record<string, WeightDtype> = { F16: 'float16', F32: 'float32' };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The tensors a safetensors file declares, as absolute byte ranges of the file. */
export function readSafetensorsHeader(buffer: ArrayBuffer, file: string): TensorEntry[] {
  const fail = (problem: string): never => {
    throw new ModelLoadError(file, problem);
  };
  if (buffer.byteLength < 8) fail('is shorter than the 8-byte safetensors header length');
  const view = new DataView(buffer);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  const dataStart = 8 + headerLength;
  if (dataStart > buffer.byteLength) {
    fail(
      `safetensors header length ${headerLength} runs past the end (${buffer.byteLength} bytes)`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, headerLength)));
  } catch (err) {
    return fail(`safetensors header is not valid JSON (${(err as Error).message})`);
  }
  if (!isRecord(header)) return fail('safetensors header is not a JSON object');
  const entries: TensorEntry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (!isRecord(info)) return fail(`tensor ${name}: header entry is not an object`);
    const dtype = DTYPES[String(info.dtype)];
    if (!dtype) fail(`tensor ${name}: dtype ${JSON.stringify(info.dtype)} (expected F16 or F32)`);
    const shape = info.shape;
    const offsets = info.data_offsets;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      return fail(`tensor ${name}: shape must be a list of whole numbers`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[1] < offsets[0]
    ) {
      return fail(`tensor ${name}: data_offsets must be [begin, end]`);
    }
    entries.push({
      name,
      shape: shape as number[],
      dtype,
      offset: dataStart + (offsets[0] as number),
      length: (offsets[1] as number) - (offsets[0] as number),
    });
  }
  return entries;
}

/**
 * Decodes a component's weights: the file's size and sha256 must match the card, its tensors must
 * be exactly `expected` (name -> PyTorch shape, derived from `configFile`), every value finite.
 */
export async function decodeSafetensors(
  buffer: ArrayBuffer,
  record: WeightsRecord,
  expected: Map<string, number[]>,
  files: { weights: string; card: string; config: string },
): Promise<Map<string, HostTensor>> {
  // Size first: a truncated download is reported as such, not as a broken header.
  if (buffer.byteLength !== record.byte_length) {
    const hint = buffer.byteLength < record.byte_length ? ' (truncated download?)' : '';
    throw new ModelLoadError(
      files.weights,
      `is ${buffer.byteLength} bytes but ${files.card} says ${record.byte_length}${hint}`,
    );
  }
  const tensors = readSafetensorsHeader(buffer, files.weights);
  // Shapes against the config before decoding, so the message names the config it disagrees with.
  for (const entry of tensors) {
    const want = expected.get(entry.name);
    if (!want) {
      throw new ModelLoadError(
        files.weights,
        `holds tensor ${entry.name}, which the architecture in ${files.config} does not have ` +
          '(weights and config from different models?)',
      );
    }
    if (want.length !== entry.shape.length || want.some((d, i) => d !== entry.shape[i])) {
      throw new ModelLoadError(
        files.weights,
        `tensor ${entry.name} has shape [${entry.shape.join(', ')}] but ${files.config} ` +
          `implies [${want.join(', ')}]`,
      );
    }
  }
  const present = new Set(tensors.map((t) => t.name));
  const missing = [...expected.keys()].filter((name) => !present.has(name));
  if (missing.length) {
    throw new ModelLoadError(
      files.weights,
      `lacks ${missing.length} tensor(s) the architecture in ${files.config} needs, e.g. ` +
        `${missing.slice(0, 3).join(', ')}`,
    );
  }
  const manifest = {
    weights: {
      file: files.weights,
      dtype: 'float16',
      byte_order: 'little',
      byte_length: record.byte_length,
      sha256: record.sha256,
    },
    tensors,
  };
  return decodeTensors(manifest, expected, buffer, {
    weightsFile: files.weights,
    cardFile: files.card,
  });
}
