// Cross-origin isolation and wasm threads, in the built app as `vite preview` serves it (with the
// COOP/COEP headers of vite.config.ts): the page is isolated, the engine runs tfjs's threaded
// wasm with one thread per core and says so, and its outputs are the one-thread engine's. Without
// the headers (and without the fallback service worker) it runs one thread and says why; with
// the service worker and no headers, it is isolated again after one reload.
import { evaluateFixture, maxAbsDiff, readParityFixture } from './parityFixture';
import { expect, test, type Page } from '@playwright/test';

const fixture = readParityFixture('mnist');

const ISOLATION_HEADERS = [
  'cross-origin-opener-policy',
  'cross-origin-embedder-policy',
  'cross-origin-resource-policy',
];

/** As src/engine/wasmThreads.ts: one per core, at most 8 (tfjs's pool). */
const expectedThreads = (cores: number) => Math.max(1, Math.min(cores, 8));

async function engineReady(page: Page) {
  const status = page.getByTestId('backend-name');
  await expect(status).toHaveAttribute('data-state', 'ready', { timeout: 90_000 });
  await expect(status).toHaveAttribute('data-backend', 'wasm');
  return status;
}

/** The model output for the parity fixture's inputs, from the engine worker (debug=1 hook). */
async function evaluate(page: Page) {
  await expect(page.getByRole('button', { name: 'Generate', exact: true })).toBeEnabled({
    timeout: 90_000,
  });
  return evaluateFixture(page, fixture);
}

/** wasm threads are checked in the default project (the flag changes nothing for wasm). */
const defaultProjectOnly = (name: string) =>
  test.skip(name !== 'default', 'wasm threads are checked in the default project');

const line = (threads: number) =>
  `wasm, ${threads} thread${threads === 1 ? '' : 's'} (cross-origin isolated)`;

test('isolated: wasm runs a thread per core, says so, and matches the one-thread engine', async ({
  page,
}, testInfo) => {
  defaultProjectOnly(testInfo.project.name);
  test.setTimeout(300_000);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  const response = await page.goto('/?debug=1&model=mnist');
  for (const h of ISOLATION_HEADERS) expect(response?.headers()[h], h).toBeTruthy();
  expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const threads = expectedThreads(cores);

  // The default ('hybrid'): XNNPACK's pool of a thread per core for one image, and a batch split
  // across one single-threaded helper worker per core.
  const status = await engineReady(page);
  await expect(status).toContainText(line(threads));
  await expect(status).toHaveAttribute('data-isolated', 'true');
  await expect(status).toHaveAttribute('data-threads', String(threads));
  await expect(status).not.toContainText('without the fused');
  console.log(`[isolation] ${cores} cores: ${await status.textContent()}`);
  const batch = fixture.class_ids.length;
  /** The fixture's batch, once the helpers compute (they load the model after the engine). */
  const evaluateSplit = async (engineComputes: boolean) => {
    let result = await evaluate(page);
    for (let i = 0; i < 60 && threads > 1 && result.split?.workers !== threads; i++) {
      await page.waitForTimeout(1000);
      result = await evaluate(page);
    }
    if (threads > 1) {
      expect(result.split?.workers).toBe(threads);
      expect(result.split?.lastSplit?.length).toBe(Math.min(threads, batch));
      expect(result.split?.lastSplit?.reduce((a, b) => a + b, 0)).toBe(batch);
    }
    // 'hybrid' hands every slice to the helpers (the engine's profile sees only slicing).
    if (engineComputes || threads === 1) {
      expect(result.kernels).toContain('PlaygroundFusedGroupNorm');
    }
    expect(maxAbsDiff(result.output, fixture.output)).toBeLessThan(1e-3);
    return result;
  };
  const hybrid = await evaluateSplit(false);

  // ?wasmMode=split: the engine worker computes a slice on one thread beside the helpers.
  await page.goto('/?debug=1&model=mnist&wasmMode=split');
  await engineReady(page);
  await expect(status).toContainText(line(threads));
  const split = await evaluateSplit(true);

  // tfjs's threaded build with XNNPACK's pool (?wasmMode=threads): the fused kernels run on its
  // shared memory.
  await page.goto('/?debug=1&model=mnist&wasmMode=threads');
  await engineReady(page);
  await expect(status).toContainText(line(threads));
  const threaded = await evaluate(page);
  expect(threaded.kernels).toContain('PlaygroundFusedGroupNorm');
  expect(threaded.kernels).toContain('PlaygroundFusedAttention');
  expect(threaded.split ?? null).toBeNull();

  await page.goto('/?debug=1&model=mnist&threads=1');
  await engineReady(page);
  await expect(status).toContainText(line(1));
  await expect(status).toHaveAttribute('data-threads', '1');
  const single = await evaluate(page);
  expect(single.output.length).toBe(split.output.length);
  const hybridDiff = maxAbsDiff(hybrid.output, single.output);
  const splitDiff = maxAbsDiff(split.output, single.output);
  const threadedDiff = maxAbsDiff(threaded.output, single.output);
  console.log(
    `[isolation] vs 1 thread: hybrid max |diff| ${hybridDiff.toExponential(2)}, split ` +
      `${splitDiff.toExponential(2)}, threads ${threadedDiff.toExponential(2)}`,
  );
  // Float32 everywhere; only the batch each call sees and how XNNPACK splits work may differ.
  expect(hybridDiff).toBeLessThan(1e-5);
  expect(splitDiff).toBeLessThan(1e-5);
  expect(threadedDiff).toBeLessThan(1e-5);
  expect(errors).toEqual([]);
});

test.describe('served without the headers', () => {
  test.use({ serviceWorkers: 'block' });

  test('and without the service worker: one thread, and the line says why', async ({
    page,
  }, testInfo) => {
    defaultProjectOnly(testInfo.project.name);
    test.setTimeout(120_000);
    // The document arrives without COOP/COEP (as from a host that sends none).
    await page.route('**/*', async (route) => {
      if (!route.request().isNavigationRequest()) return route.continue();
      const response = await route.fetch();
      const headers = { ...response.headers() };
      for (const h of ISOLATION_HEADERS) delete headers[h];
      await route.fulfill({ response, headers });
    });
    await page.goto('/');
    expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(false);
    const status = await engineReady(page);
    await expect(status).toContainText('wasm, 1 thread (not cross-origin isolated)');
    await expect(status).toHaveAttribute('data-isolated', 'false');
    await expect(status).toHaveAttribute('title', /not cross-origin isolated/);
  });
});

test.describe('served without the headers, with the service worker', () => {
  test.use({ serviceWorkers: 'allow' });

  test('the fallback service worker isolates the page after one reload', async ({
    page,
    context,
  }, testInfo) => {
    defaultProjectOnly(testInfo.project.name);
    test.setTimeout(180_000);
    // Every response arrives without the headers, the service worker's fetches included.
    await context.route('**/*', async (route) => {
      const response = await route.fetch();
      const headers = { ...response.headers() };
      for (const h of ISOLATION_HEADERS) delete headers[h];
      await route.fulfill({ response, headers });
    });
    await page.goto('/');
    // The script registers the worker and reloads once it controls the page.
    await expect
      .poll(() => page.evaluate(() => self.crossOriginIsolated).catch(() => false), {
        timeout: 60_000,
      })
      .toBe(true);
    expect(await page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const threads = expectedThreads(cores);
    const status = await engineReady(page);
    await expect(status).toContainText(
      `wasm, ${threads} thread${threads === 1 ? '' : 's'} (cross-origin isolated)`,
    );
  });
});
