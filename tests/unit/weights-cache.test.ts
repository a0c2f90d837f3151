// The weights cache (src/worker/weightsCache.ts) on an in-memory stand-in for Cache Storage:
// a verified hit, a miss, a corrupt entry evicted, and other exports of a file replaced.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cachingFetch, pipelineWeightFiles } from '../../src/worker/cachingFetch';
import {
  readCachedWeights,
  storeWeights,
  weightsCacheKey,
  type WeightsCache,
} from '../../src/worker/weightsCache';

class MemoryCache implements WeightsCache {
  readonly entries = new Map<string, ArrayBuffer>();
  async match(request: string) {
    const bytes = this.entries.get(request);
    return bytes ? new Response(bytes.slice(0)) : undefined;
  }
  async put(request: string, response: Response) {
    this.entries.set(request, await response.arrayBuffer());
  }
  async delete(request: string) {
    return this.entries.delete(request);
  }
  async keys() {
    return [...this.entries.keys()].map((url) => ({ url }));
  }
}

const URL_ = 'http://127.0.0.1:4173/models/mnist/weights.bin';
const bytes = new Uint8Array(1000).map((_, i) => (i * 37) % 251).buffer;
const sha256 = createHash('sha256').update(new Uint8Array(bytes)).digest('hex');
const expected = { sha256, byteLength: bytes.byteLength };

describe('weights cache', () => {
  it('misses on an empty cache, then serves exactly the stored bytes', async () => {
    const cache = new MemoryCache();
    expect(await readCachedWeights(cache, URL_, expected)).toEqual({ kind: 'miss' });
    expect(await storeWeights(cache, URL_, sha256, bytes)).toBe(true);
    const read = await readCachedWeights(cache, URL_, expected);
    expect(read.kind).toBe('hit');
    if (read.kind === 'hit') expect(new Uint8Array(read.bytes)).toEqual(new Uint8Array(bytes));
    expect([...cache.entries.keys()]).toEqual([`${URL_}?sha256=${sha256}`]);
  });

  it('evicts an entry whose bytes no longer have the card sha256', async () => {
    const cache = new MemoryCache();
    const corrupt = bytes.slice(0);
    new Uint8Array(corrupt)[500] ^= 0xff;
    cache.entries.set(weightsCacheKey(URL_, sha256), corrupt);
    const read = await readCachedWeights(cache, URL_, expected);
    expect(read.kind).toBe('evicted');
    if (read.kind === 'evicted') expect(read.why).toMatch(/^sha256 [0-9a-f]{64} instead of /);
    expect(cache.entries.size).toBe(0);
    // The next read downloads: a miss, not the bad bytes again.
    expect(await readCachedWeights(cache, URL_, expected)).toEqual({ kind: 'miss' });
  });

  it('evicts a truncated entry without hashing it', async () => {
    const cache = new MemoryCache();
    cache.entries.set(weightsCacheKey(URL_, sha256), bytes.slice(0, 999));
    const read = await readCachedWeights(cache, URL_, expected);
    expect(read).toEqual({ kind: 'evicted', why: '999 bytes instead of 1000' });
    expect(cache.entries.size).toBe(0);
  });

  it('a card with a new sha256 misses, and storing it drops the old export', async () => {
    const cache = new MemoryCache();
    await storeWeights(cache, URL_, sha256, bytes);
    const other = 'http://127.0.0.1:4173/models/fashion-mnist/weights.bin';
    await storeWeights(cache, other, sha256, bytes);
    const newBytes = new Uint8Array(1000).fill(7).buffer;
    const newSha = createHash('sha256').update(new Uint8Array(newBytes)).digest('hex');
    const newExpected = { sha256: newSha, byteLength: 1000 };
    expect(await readCachedWeights(cache, URL_, newExpected)).toEqual({ kind: 'miss' });
    await storeWeights(cache, URL_, newSha, newBytes);
    expect([...cache.entries.keys()].sort()).toEqual(
      [weightsCacheKey(other, sha256), weightsCacheKey(URL_, newSha)].sort(),
    );
    expect((await readCachedWeights(cache, URL_, newExpected)).kind).toBe('hit');
  });

  it('a cache that fails to read counts as a miss', async () => {
    const cache = new MemoryCache();
    cache.match = () => Promise.reject(new Error('storage gone'));
    expect(await readCachedWeights(cache, URL_, expected)).toEqual({ kind: 'miss' });
  });
});

describe('caching fetch (pipeline weight files)', () => {
  const base = 'http://127.0.0.1:4173/models/emoji/';
  const weightsUrl = `${base}unet/model.safetensors`;
  const card = {
    components: {
      unet: { weights: { file: 'unet/model.safetensors', sha256, byte_length: 1000 } },
      tokenizer: null,
    },
  };

  /** A network stand-in that serves `body` for the weights and JSON for anything else. */
  function network(body: ArrayBuffer) {
    const calls: string[] = [];
    const fetchImpl = (async (input: RequestInfo | URL) => {
      const url = String(input);
      calls.push(url);
      return url === weightsUrl ? new Response(body.slice(0)) : new Response('{}');
    }) as typeof fetch;
    return { calls, fetchImpl };
  }

  it('lists the weight files of a pipeline card by absolute URL', () => {
    expect([...pipelineWeightFiles(card, base)]).toEqual([
      [weightsUrl, { sha256, byteLength: 1000 }],
    ]);
    expect(pipelineWeightFiles(null, base).size).toBe(0);
  });

  it('downloads once, stores after the load, then serves the weights from the cache', async () => {
    const cache = new MemoryCache();
    const files = pipelineWeightFiles(card, base);
    const first = network(bytes);
    const loader = cachingFetch(cache, first.fetchImpl, files);
    const got = await (await loader.fetch(weightsUrl)).arrayBuffer();
    expect(new Uint8Array(got)).toEqual(new Uint8Array(bytes));
    expect(cache.entries.size).toBe(0); // nothing stored before the whole model has loaded
    await loader.storeVerified();
    expect(cache.entries.size).toBe(1);

    const second = network(new ArrayBuffer(1000));
    const again = cachingFetch(cache, second.fetchImpl, files);
    const cached = await (await again.fetch(weightsUrl)).arrayBuffer();
    expect(new Uint8Array(cached)).toEqual(new Uint8Array(bytes));
    await again.fetch(`${base}unet/config.json`);
    expect(second.calls).toEqual([`${base}unet/config.json`]);
  });

  it('never stores a download that does not have the card sha256', async () => {
    const cache = new MemoryCache();
    const bad = new Uint8Array(1000).fill(1).buffer;
    const loader = cachingFetch(cache, network(bad).fetchImpl, pipelineWeightFiles(card, base));
    await (await loader.fetch(weightsUrl)).arrayBuffer();
    await loader.storeVerified();
    expect(cache.entries.size).toBe(0);
  });
});
