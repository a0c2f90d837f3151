// Model weights kept in the browser's Cache Storage, so a second visit starts without
// downloading them again. An entry is keyed by the weights URL and the sha256 the card names:
// a new export (new sha256) never meets an old file, and every cached read is checked against
// that sha256 before use. A corrupt entry is deleted and the caller downloads the file again.
// Cache Storage exists only in secure contexts (https, localhost); elsewhere nothing is cached.
import { sha256Hex } from '../engine/model/sha256';

/** The part of the Cache interface used here (a fake stands in for it in Node tests). */
export interface WeightsCache {
  match(request: string): Promise<Response | undefined>;
  put(request: string, response: Response): Promise<void>;
  delete(request: string): Promise<boolean>;
  keys(): Promise<ReadonlyArray<{ url: string }>>;
}

/** Bump when what is stored changes meaning; old caches are simply never read again. */
export const WEIGHTS_CACHE_NAME = 'diffusion-playground-weights-v1';

/** The cache key: the weights URL with the card's sha256 as a query parameter. */
export function weightsCacheKey(weightsUrl: string, sha256: string): string {
  const url = new URL(weightsUrl);
  url.searchParams.set('sha256', sha256);
  return url.href;
}

/** The weights cache of this context, or null where there is none (plain http, Node). */
export async function openWeightsCache(): Promise<WeightsCache | null> {
  const storage = (globalThis as { caches?: CacheStorage }).caches;
  if (!storage) return null;
  try {
    const cache = await storage.open(WEIGHTS_CACHE_NAME);
    return {
      match: (request) => cache.match(request),
      put: (request, response) => cache.put(request, response),
      delete: (request) => cache.delete(request),
      keys: () => cache.keys(),
    };
  } catch {
    // Storage refused (private mode, quota, disabled by policy): work without a cache.
    return null;
  }
}

export type CachedRead =
  | { kind: 'hit'; bytes: ArrayBuffer }
  | { kind: 'miss' }
  /** There was an entry, but not the card's bytes: it has been deleted. */
  | { kind: 'evicted'; why: string };

/**
 * The cached weights, if an entry exists and its bytes have exactly the card's length and
 * sha256. Any read failure counts as a miss: the network is always there to fall back on.
 */
export async function readCachedWeights(
  cache: WeightsCache,
  weightsUrl: string,
  expected: { sha256: string; byteLength: number },
): Promise<CachedRead> {
  const key = weightsCacheKey(weightsUrl, expected.sha256);
  let bytes: ArrayBuffer;
  try {
    const response = await cache.match(key);
    if (!response) return { kind: 'miss' };
    bytes = await response.arrayBuffer();
  } catch {
    return { kind: 'miss' };
  }
  let why: string | null = null;
  if (bytes.byteLength !== expected.byteLength) {
    why = `${bytes.byteLength} bytes instead of ${expected.byteLength}`;
  } else {
    const actual = await sha256Hex(bytes);
    if (actual !== expected.sha256) why = `sha256 ${actual} instead of ${expected.sha256}`;
  }
  if (why === null) return { kind: 'hit', bytes };
  await cache.delete(key).catch(() => false);
  return { kind: 'evicted', why };
}

/**
 * Stores weights that have passed every check, and deletes the entries of other exports of the
 * same file (same URL, another sha256), which no card names any more. A full disk is not an
 * error: the model is loaded either way.
 */
export async function storeWeights(
  cache: WeightsCache,
  weightsUrl: string,
  sha256: string,
  bytes: ArrayBuffer,
): Promise<boolean> {
  const key = weightsCacheKey(weightsUrl, sha256);
  const bare = new URL(weightsUrl);
  try {
    for (const request of await cache.keys()) {
      const url = new URL(request.url);
      url.searchParams.delete('sha256');
      if (url.href === bare.href && request.url !== key) await cache.delete(request.url);
    }
    const response = new Response(bytes.slice(0), {
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(bytes.byteLength),
      },
    });
    await cache.put(key, response);
    return true;
  } catch {
    return false;
  }
}
