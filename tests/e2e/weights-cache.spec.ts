// Model weights are downloaded once: a reload loads them from Cache Storage without a request,
// and a cached copy that no longer has the card's sha256 is evicted and downloaded again.
import { expect, test, type BrowserContext, type Page } from '@playwright/test';

const CACHE = 'diffusion-playground-weights-v1';

// Three page loads, each starting the engine: room for a busy machine.
test.describe.configure({ timeout: 240_000 });

test.beforeEach(() => {
  test.skip(test.info().project.name !== 'default', 'the cache is the same in both projects');
});

/** Counts requests for the MNIST weights, the worker's included. */
function countWeightRequests(context: BrowserContext) {
  const seen = { count: 0 };
  context.on('request', (request) => {
    if (new URL(request.url()).pathname.endsWith('/models/mnist/weights.bin')) seen.count++;
  });
  return seen;
}

async function modelReady(page: Page) {
  await expect(page.getByRole('button', { name: 'Generate' })).toBeEnabled({ timeout: 90_000 });
  await expect(page.getByRole('alert')).toHaveCount(0);
}

/** The cached entries' URLs and, for each, whether its bytes have the sha256 in its key. */
function cachedEntries(page: Page) {
  return page.evaluate(async (name) => {
    const cache = await caches.open(name);
    const out: { url: string; intact: boolean }[] = [];
    for (const request of await cache.keys()) {
      const bytes = await (await cache.match(request))!.arrayBuffer();
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
      const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
      out.push({
        url: request.url,
        intact: new URL(request.url).searchParams.get('sha256') === hex,
      });
    }
    return out;
  }, CACHE);
}

test('a reload loads the weights from the cache; a corrupt entry is downloaded again', async ({
  page,
  context,
}) => {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  const card = (await (await page.request.get('/models/mnist/card.json')).json()) as {
    weights: { sha256: string };
  };
  const weights = countWeightRequests(context);
  await page.goto('/');
  await modelReady(page);
  expect(weights.count).toBe(1);
  await expect
    .poll(() => cachedEntries(page))
    .toEqual([
      {
        url: expect.stringMatching(`/models/mnist/weights\\.bin\\?sha256=${card.weights.sha256}$`),
        intact: true,
      },
    ]);

  // Second visit: no request for the weights at all.
  weights.count = 0;
  await page.reload();
  await modelReady(page);
  expect(weights.count).toBe(0);

  // One byte flipped in the cached copy: caught by the sha256 check, evicted, fetched again.
  await page.evaluate(async (name) => {
    const cache = await caches.open(name);
    const [request] = await cache.keys();
    const bytes = new Uint8Array(await (await cache.match(request))!.arrayBuffer());
    bytes[1000] ^= 0xff;
    await cache.put(request, new Response(bytes));
  }, CACHE);
  expect((await cachedEntries(page))[0].intact).toBe(false);
  await page.reload();
  await modelReady(page);
  expect(weights.count).toBe(1);
  await expect.poll(async () => (await cachedEntries(page)).map((e) => e.intact)).toEqual([true]);
  // And the model it loaded generates.
  await page
    .getByRole('group', { name: 'Run' })
    .getByRole('button', { name: 'Step', exact: true })
    .click();
  await expect(page.getByTestId('step-readout')).toHaveAttribute('data-step', '1', {
    timeout: 60_000,
  });
  expect(errors).toEqual([]);
});
