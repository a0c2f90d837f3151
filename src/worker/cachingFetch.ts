// A fetch for loaders that take one (the emoji pipeline's), serving weight files from the weights
// cache (weightsCache.ts) when a cached copy has the sha256 the card names, and keeping what it
// downloads so the caller can store it once the whole model has loaded and passed its checks.
// Other URLs (configs, vocabularies) go straight to the network.
import { sha256Hex } from '../engine/model/sha256';
import { readCachedWeights, storeWeights, type WeightsCache } from './weightsCache';

export interface ExpectedFile {
  sha256: string;
  byteLength: number;
}

export interface CachingFetch {
  fetch: typeof fetch;
  /** Stores the downloaded weight files whose bytes have their card's length and sha256. */
  storeVerified(): Promise<void>;
}

function urlOf(input: RequestInfo | URL): string {
  const raw = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  return new URL(raw).href;
}

/** The weight files a pipeline card lists: URL -> expected length and sha256. */
export function pipelineWeightFiles(card: unknown, base: string): Map<string, ExpectedFile> {
  const files = new Map<string, ExpectedFile>();
  const components = (card as { components?: Record<string, unknown> } | null)?.components;
  if (typeof components !== 'object' || components === null) return files;
  for (const component of Object.values(components)) {
    const weights = (component as { weights?: Record<string, unknown> } | null)?.weights;
    const { file, sha256, byte_length: byteLength } = weights ?? {};
    if (typeof file !== 'string' || typeof sha256 !== 'string' || typeof byteLength !== 'number') {
      continue;
    }
    if (!/^[0-9a-f]{64}$/.test(sha256)) continue;
    files.set(new URL(file, base).href, { sha256, byteLength });
  }
  return files;
}

export function cachingFetch(
  cache: WeightsCache | null,
  inner: typeof fetch,
  expected: Map<string, ExpectedFile>,
): CachingFetch {
  const downloaded = new Map<string, ArrayBuffer>();
  const cachedFetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = urlOf(input);
    const file = expected.get(url);
    if (!cache || !file) return inner(input, init);
    const read = await readCachedWeights(cache, url, file);
    if (read.kind === 'hit') {
      return new Response(read.bytes, {
        status: 200,
        headers: { 'content-type': 'application/octet-stream' },
      });
    }
    const response = await inner(input, init);
    if (!response.ok) return response;
    const bytes = await response.arrayBuffer();
    downloaded.set(url, bytes);
    return new Response(bytes.slice(0), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
  return {
    fetch: cachedFetch as typeof fetch,
    async storeVerified() {
      if (!cache) return;
      for (const [url, bytes] of downloaded) {
        const file = expected.get(url)!;
        if (bytes.byteLength !== file.byteLength) continue;
        if ((await sha256Hex(bytes)) !== file.sha256) continue;
        await storeWeights(cache, url, file.sha256, bytes);
      }
      downloaded.clear();
    },
  };
}
