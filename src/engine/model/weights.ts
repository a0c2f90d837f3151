// Reads and checks the weights file against its card before anything runs: a truncated download,
// a corrupted or stale file, a card for another architecture or a NaN in a tensor each fail here
// with the file name and the exact problem, instead of as garbage images later.
import type { ModelCard, TensorEntry } from './card';
import { planUNet, expectedTensorShapes } from './architecture';
import { ModelLoadError } from './errors';
import { decodeFloat16, decodeFloat32 } from './float16';
import { sha256Hex } from './sha256';

/** One decoded parameter, still in PyTorch layout. */
export interface HostTensor {
  shape: number[];
  values: Float32Array;
}

export interface DecodeOptions {
  /** Name of the weights file in messages (default: the card's weights.file). */
  weightsFile?: string;
  /** Name of the card file in messages (default card.json). */
  cardFile?: string;
  /** Skip the sha256 check (e.g. a caller that verified the download itself). */
  skipChecksum?: boolean;
}

const BYTES_PER_VALUE = { float16: 2, float32: 4 } as const;

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function describeShape(shape: number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Checks sizes, checksum, manifest and values; returns every parameter by name. */
export async function decodeWeights(
  card: ModelCard,
  buffer: ArrayBuffer,
  options: DecodeOptions = {},
): Promise<Map<string, HostTensor>> {
  return decodeTensors(card, expectedTensorShapes(planUNet(card.architecture)), buffer, options);
}

/** The part of a card (of any format) that describes its weights file. */
export type WeightManifest = Pick<ModelCard, 'weights' | 'tensors'>;

/**
 * decodeWeights for any architecture: `expected` holds every parameter the network reads, with its
 * PyTorch shape; the card must list exactly those.
 */
export async function decodeTensors(
  card: WeightManifest,
  expected: Map<string, number[]>,
  buffer: ArrayBuffer,
  options: DecodeOptions = {},
): Promise<Map<string, HostTensor>> {
  const weightsFile = options.weightsFile ?? card.weights.file;
  const cardFile = options.cardFile ?? 'card.json';
  const fail = (file: string, problem: string): never => {
    throw new ModelLoadError(file, problem);
  };

  if (buffer.byteLength !== card.weights.byte_length) {
    const hint = buffer.byteLength < card.weights.byte_length ? ' (truncated download?)' : '';
    fail(
      weightsFile,
      `is ${buffer.byteLength} bytes but ${cardFile} says ${card.weights.byte_length}${hint}`,
    );
  }
  if (!options.skipChecksum) {
    const actual = await sha256Hex(buffer);
    if (actual !== card.weights.sha256) {
      fail(
        weightsFile,
        `sha256 is ${actual} but ${cardFile} says ${card.weights.sha256} ` +
          '(corrupted file, or weights and card from different exports)',
      );
    }
  }

  const entries = new Map<string, TensorEntry>();
  for (const entry of card.tensors) {
    if (entries.has(entry.name)) fail(cardFile, `tensor ${entry.name} is listed twice`);
    if (!expected.has(entry.name)) {
      fail(cardFile, `tensor ${entry.name} is not part of the architecture the card describes`);
    }
    entries.set(entry.name, entry);
  }

  const tensors = new Map<string, HostTensor>();
  for (const [name, shape] of expected) {
    const entry = entries.get(name);
    if (!entry) return fail(cardFile, `missing tensor ${name} (shape ${describeShape(shape)})`);
    if (!sameShape(entry.shape, shape)) {
      fail(
        cardFile,
        `tensor ${name} has shape ${describeShape(entry.shape)}, ` +
          `but the architecture needs ${describeShape(shape)}`,
      );
    }
    const count = shape.reduce((a, b) => a * b, 1);
    const bytesPerValue = BYTES_PER_VALUE[entry.dtype];
    if (bytesPerValue === undefined) {
      fail(cardFile, `tensor ${name} has unknown dtype ${JSON.stringify(entry.dtype)}`);
    }
    if (entry.length !== count * bytesPerValue) {
      fail(
        cardFile,
        `tensor ${name} claims ${entry.length} bytes; ${describeShape(shape)} ${entry.dtype} ` +
          `needs ${count * bytesPerValue}`,
      );
    }
    if (!Number.isSafeInteger(entry.offset)) {
      fail(cardFile, `tensor ${name} has offset ${entry.offset}, not a whole number of bytes`);
    }
    if (entry.offset < 0 || entry.offset + entry.length > buffer.byteLength) {
      fail(
        weightsFile,
        `tensor ${name} lies at bytes ${entry.offset}..${entry.offset + entry.length}, ` +
          `past the end of the file (${buffer.byteLength} bytes)`,
      );
    }
    const values =
      entry.dtype === 'float16'
        ? decodeFloat16(buffer, entry.offset, count)
        : decodeFloat32(buffer, entry.offset, count);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      fail(weightsFile, `tensor ${name} has a non-finite value (${values[bad]}) at index ${bad}`);
    }
    tensors.set(name, { shape, values });
  }
  // Tensors sharing bytes: the manifest was not written for this file (or was edited by hand).
  const ranges = [...entries.values()].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < ranges.length; i++) {
    const [a, b] = [ranges[i - 1], ranges[i]];
    if (b.offset < a.offset + a.length) {
      fail(
        cardFile,
        `tensors ${a.name} and ${b.name} overlap at bytes ${b.offset}..${a.offset + a.length}`,
      );
    }
  }
  return tensors;
}
