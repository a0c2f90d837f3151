// The production build's Content-Security-Policy and its network footprint: the policy is there
// (as a <meta> in the built page and as the header `vite preview` sends), forbids eval, and a
// whole generation on each backend runs without a single violation or a request that leaves the
// app's origin. docs/SECURITY.md explains the policy.
import { expect, test, type BrowserContext, type Page, type TestInfo } from '@playwright/test';

interface Violation {
  /** Which policy reported it: the header's carries frame-ancestors, the meta tag's cannot. */
  policy: 'header' | 'meta';
  directive: string;
  blocked: string;
  source: string;
}

type ViolationLog = { cspViolations?: Violation[] };

/** Starts the record in a page or worker global (a function run there, so no closures). */
function listenForViolations(scope: 'page' | 'worker') {
  const seen: Violation[] = [];
  const global = globalThis as unknown as ViolationLog & EventTarget;
  global.cspViolations = seen;
  (scope === 'page' ? document : global).addEventListener('securitypolicyviolation', (event) => {
    const e = event as SecurityPolicyViolationEvent;
    seen.push({
      policy: e.originalPolicy.includes('frame-ancestors') ? 'header' : 'meta',
      directive: e.effectiveDirective,
      blocked: e.blockedURI,
      source: `${scope} ${e.sourceFile}:${e.lineNumber}`,
    });
  });
}

/**
 * Records every CSP violation the page reports, from its first script on, and those each
 * worker reports on its own global scope (a worker has its own policy, from its response's
 * header). The worker's listener is added when Playwright sees the worker, before the engine
 * is asked to start a backend; that the asked-for backend runs is checked separately.
 */
async function watchViolations(page: Page) {
  await page.addInitScript(listenForViolations, 'page' as const);
  page.on('worker', (worker) => {
    worker.evaluate(listenForViolations, 'worker' as const).catch(() => undefined);
  });
}

/**
 * tfjs's wasm threads (tfjs-backend-wasm's thread script, served from /tfjs-wasm-<version>/):
 * between kernels they wait in Atomics.wait inside WebAssembly, so they cannot answer an
 * evaluate. They run only Emscripten's published thread script and glue, both from the app's
 * origin (the traffic check covers those requests).
 */
const isWasmThread = (url: string) => /\/tfjs-wasm-[^/]+\/[^/]+\.worker\.js$/.test(url);

/** Violations so far in the page and in its live workers (a worker without a record fails). */
async function violations(page: Page): Promise<Violation[]> {
  const read = () => (globalThis as unknown as ViolationLog).cspViolations ?? null;
  const records = [
    { url: page.url(), seen: await page.evaluate(read) },
    ...(await Promise.all(
      page
        .workers()
        .filter((w) => !isWasmThread(w.url()))
        .map(async (w) => ({ url: w.url(), seen: await w.evaluate(read) })),
    )),
  ];
  const all: Violation[] = [];
  for (const { url, seen } of records) {
    if (seen === null) throw new Error(`no violation record in ${url}`);
    all.push(...seen);
  }
  return all;
}

/** Every request the context makes (the page's and its worker's), and console errors. */
function recordTraffic(context: BrowserContext, page: Page) {
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  context.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    // The browser asks for /favicon.ico by itself (the app has none): a 404 on the app's origin.
    if (message.location().url.endsWith('/favicon.ico')) return;
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('worker', (worker) =>
    worker.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(`worker: ${message.text()}`);
    }),
  );
  return { requests, consoleErrors, pageErrors };
}

/** A URL is the app's own when it has the page's origin; data: and blob: stay in the browser. */
function foreign(urls: string[], origin: string): string[] {
  return urls.filter((url) => {
    const { protocol } = new URL(url);
    if (protocol === 'data:' || protocol === 'blob:') return false;
    return new URL(url).origin !== origin;
  });
}

/** Parses "name value value; name value" into a map of directive -> sources. */
function parsePolicy(policy: string): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of policy.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) directives.set(name.toLowerCase(), values);
  }
  return directives;
}

test('the built page carries a CSP without eval, as a meta tag and as the header', async ({
  page,
  request,
  baseURL,
}) => {
  const response = await request.get(`${baseURL}/`);
  const header = response.headers()['content-security-policy'];
  expect(header, 'vite preview sends the CSP header').toBeTruthy();

  await page.goto('/');
  const meta = await page
    .locator('meta[http-equiv="Content-Security-Policy"]')
    .getAttribute('content');
  expect(meta, 'the built index.html has the CSP meta tag').toBeTruthy();

  for (const policy of [header, meta!]) {
    const directives = parsePolicy(policy);
    expect(policy).not.toContain("'unsafe-eval'");
    expect(directives.get('default-src')).toEqual(["'self'"]);
    // WebAssembly compilation and nothing else beyond the app's own scripts.
    expect(directives.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    for (const [name, sources] of directives) {
      expect(sources, `${name} allows inline code`).not.toContain("'unsafe-inline'");
      expect(sources, `${name} allows any host`).not.toContain('*');
      expect(sources, `${name} allows any https host`).not.toContain('https:');
    }
  }
  // The header adds what a meta tag cannot carry (frame-ancestors); otherwise they agree.
  const headerDirectives = parsePolicy(header);
  expect(headerDirectives.get('frame-ancestors')).toEqual(["'none'"]);
  headerDirectives.delete('frame-ancestors');
  expect(headerDirectives).toEqual(parsePolicy(meta!));

  // The worker script gets the header too: a <meta> policy does not reach a worker.
  // The worker starts after the page's first render: on a busy machine well after goto returns.
  const findWorkerUrl = () =>
    page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .map((e) => e.name)
        .find((name) => /engine\.worker[^/]*\.js$/.test(name)),
    );
  await expect.poll(findWorkerUrl, { message: 'the engine worker was loaded' }).toBeTruthy();
  const workerUrl = await findWorkerUrl();
  const workerResponse = await request.get(workerUrl!);
  expect(workerResponse.headers()['content-security-policy']).toBe(header);
});

test('the policy is enforced: eval, inline and foreign scripts are refused and reported', async ({
  page,
}) => {
  // page.evaluate itself runs outside the page's CSP (DevTools bypasses it), so the probes run
  // as scripts of the page: one served from the app's origin (allowed, but its eval is not), one
  // inline and one from another origin (both refused).
  await page.route('**/csp-probe.js', (route) =>
    route.fulfill({
      contentType: 'text/javascript',
      body: `
        try { eval('1 + 1'); window.cspProbe = 'eval ran'; }
        catch (err) { window.cspProbe = 'eval refused: ' + err.name; }`,
    }),
  );
  await watchViolations(page);
  await page.goto('/');
  await page.evaluate(() => {
    const add = (setUp: (script: HTMLScriptElement) => void) => {
      const script = document.createElement('script');
      setUp(script);
      document.head.append(script);
    };
    add((s) => (s.src = '/csp-probe.js'));
    add((s) => (s.textContent = 'window.inlineRan = true;'));
    add((s) => (s.src = 'https://example.invalid/script.js'));
  });
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { cspProbe?: string }).cspProbe))
    .toBe('eval refused: EvalError');
  expect(await page.evaluate(() => 'inlineRan' in window)).toBe(false);
  // Both policies (the header and the meta tag) refuse each of the three, and say so.
  const refused = [
    'script-src eval',
    'script-src-elem https://example.invalid/script.js',
    'script-src-elem inline',
  ];
  await expect
    .poll(async () =>
      (await violations(page)).map((v) => `${v.policy}: ${v.directive} ${v.blocked}`).sort(),
    )
    .toEqual([...refused.map((r) => `header: ${r}`), ...refused.map((r) => `meta: ${r}`)].sort());
});

interface BackendCase {
  /** `?backend=` value, or null for the automatic choice. */
  query: 'webgpu' | 'webgl' | null;
  /** Run only in this Playwright project (WebGPU needs the flag). */
  project?: string;
  steps: number;
}

const CASES: BackendCase[] = [
  { query: null, steps: 3 },
  { query: 'webgl', steps: 2 },
  { query: 'webgpu', project: 'webgpu-flag', steps: 2 },
];

for (const backendCase of CASES) {
  const label = backendCase.query ?? 'the automatically chosen backend';
  test(`a generation on ${label} breaks no CSP rule and stays on the app's origin`, async ({
    page,
    context,
    baseURL,
  }, testInfo: TestInfo) => {
    test.skip(
      backendCase.project !== undefined && testInfo.project.name !== backendCase.project,
      `needs the ${backendCase.project} project`,
    );
    const traffic = recordTraffic(context, page);
    await watchViolations(page);
    const query = new URLSearchParams({
      ...(backendCase.query ? { backend: backendCase.query } : {}),
      batch: '1',
      guidance: '2',
      steps: String(backendCase.steps),
    });
    await page.goto(`/?${query}`);
    const backend = page.getByTestId('backend-name');
    await expect(backend).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
    // The asked-for backend really started: a policy that blocked its wasm or shaders in the
    // worker would show up here as a fallback to another backend.
    const running = await backend.getAttribute('data-backend');
    expect(await violations(page)).toEqual([]);
    expect(running).toBe(backendCase.query ?? 'wasm');
    await expect(backend).not.toContainText('self-check failed');
    await expect(page.getByRole('button', { name: 'Generate' })).toBeEnabled({ timeout: 60_000 });

    // Pick an example source too: it loads a sprite sheet shown as a CSS background.
    await page
      .getByRole('button', { name: /^MNIST test #/ })
      .first()
      .click();
    await page.getByRole('button', { name: 'Generate' }).click();
    await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', {
      timeout: 100_000,
    });
    await expect(page.getByTestId('step-readout')).toHaveAttribute(
      'data-step',
      String(backendCase.steps),
    );
    // Export PNG goes through a blob: URL.
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export PNG' }).click();
    await download;

    const origin = new URL(baseURL!).origin;
    const found = await violations(page);
    testInfo.annotations.push({
      type: 'traffic',
      description: `${running}: ${traffic.requests.length} requests, ${found.length} violations`,
    });
    console.log(
      `[${testInfo.project.name}] ${running}: ${traffic.requests.length} requests ` +
        `(${new Set(traffic.requests.map((u) => new URL(u).pathname)).size} distinct), ` +
        `${found.length} CSP violations, ${traffic.consoleErrors.length} console errors`,
    );
    expect(found).toEqual([]);
    expect(traffic.consoleErrors).toEqual([]);
    expect(traffic.pageErrors).toEqual([]);
    // The worker's own fetches (its script, the wasm binary, the weights) were seen.
    const paths = traffic.requests.map((url) => new URL(url).pathname);
    expect(paths.some((p) => /engine\.worker[^/]*\.js$/.test(p))).toBe(true);
    expect(paths.some((p) => p.endsWith('/weights.bin'))).toBe(true);
    if (running === 'wasm') expect(paths.some((p) => p.endsWith('.wasm'))).toBe(true);
    expect(foreign(traffic.requests, origin)).toEqual([]);
  });
}
