// Faults, provoked for real: broken model files served in place of the second model, an unknown
// model, a WebGPU device destroyed mid-run, an engine worker that throws or ends itself, hostile
// URLs and uploads. Each must end in a clear message while the app keeps working, and never in
// an uncaught error on the page.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { expect, test, type Page, type Route } from '@playwright/test';

const SIZE = 28;
const X_T = 'Noisy sample x_t';
const FASHION = 'fashion-mnist';
const fashionCard = readFileSync(`public/models/${FASHION}/card.json`, 'utf8');
const fashionWeights = readFileSync(`public/models/${FASHION}/weights.bin`);
const mnistCard = readFileSync('public/models/mnist/card.json', 'utf8');

interface CardTensor {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

/** Collects uncaught page errors and refuses any dialog (a script injected through the URL). */
function watchPage(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('dialog', (dialog) => {
    errors.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  return errors;
}

const generateButton = (page: Page) => page.getByRole('button', { name: 'Generate', exact: true });
const status = (page: Page) => page.getByTestId('run-status');
const readout = (page: Page) => page.getByTestId('step-readout');
const modelSelect = (page: Page) => page.getByRole('combobox', { name: 'Model' });
const alertWith = (page: Page, text: string | RegExp) =>
  page.getByRole('alert').filter({ hasText: text });

async function openReady(page: Page, query = '') {
  await page.goto(`/${query}`);
  await expect(page.getByTestId('backend-name')).toHaveAttribute('data-state', 'ready');
  await expect(generateButton(page)).toBeEnabled({ timeout: 60_000 });
}

async function canvasRgba(page: Page, name: string): Promise<number[]> {
  return page.evaluate((label) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`canvas[aria-label="${label}"]`);
    if (!canvas) throw new Error(`no canvas ${label}`);
    const context = canvas.getContext('2d')!;
    return Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data);
  }, name);
}

async function generateToEnd(page: Page) {
  await generateButton(page).click();
  await expect(status(page)).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
}

/** Every step readout from now on, recorded in the page. */
async function recordSteps(page: Page) {
  await page.evaluate(() => {
    const seen: number[] = [];
    (window as unknown as { steps: number[] }).steps = seen;
    const el = document.querySelector<HTMLElement>('[data-testid="step-readout"]')!;
    new MutationObserver(() => {
      if (el.dataset.step) seen.push(Number(el.dataset.step));
    }).observe(el, { attributes: true });
  });
}
const recordedSteps = (page: Page) =>
  page.evaluate(() => (window as unknown as { steps: number[] }).steps);

test.describe('model files', () => {
  test('a broken second model is refused naming the file and the problem; the first keeps working', async ({
    page,
    baseURL,
  }) => {
    const errors = watchPage(page);
    await openReady(page, '?batch=1&steps=4');
    await expect(modelSelect(page)).toHaveValue('mnist');
    const folder = `${baseURL}/models/${FASHION}`;
    const card = JSON.parse(fashionCard) as {
      weights: { sha256: string; byte_length: number };
      tensors: CardTensor[];
    };

    // NaN-filled tensor in a consistently built export: the card's sha256 matches the bytes.
    const poisoned = Buffer.from(fashionWeights);
    const target = card.tensors.find((t) => t.name === 'mid_block1.conv1.weight')!;
    for (let at = target.offset; at < target.offset + target.length; at += 2) {
      poisoned.writeUInt16LE(0x7e00, at);
    }
    const poisonedCard = structuredClone(card);
    poisonedCard.weights.sha256 = createHash('sha256').update(poisoned).digest('hex');

    const wrongShape = structuredClone(card);
    wrongShape.tensors.find((t) => t.name === 'conv_in.weight')!.shape = [32, 3, 3, 3];
    const otherSha = structuredClone(card);
    otherSha.weights.sha256 = '0'.repeat(64);

    const json = (value: unknown) => ({
      contentType: 'application/json',
      body: JSON.stringify(value),
    });
    const cases: {
      what: string;
      card?: Parameters<Route['fulfill']>[0];
      weights?: Parameters<Route['fulfill']>[0];
      message: string;
    }[] = [
      {
        what: 'truncated weights',
        weights: { body: fashionWeights.subarray(0, 100_000) },
        message:
          `${folder}/weights.bin: is 100000 bytes but ${folder}/card.json says ` +
          `${card.weights.byte_length} (truncated download?)`,
      },
      {
        what: 'NaN weights with a matching checksum',
        card: json(poisonedCard),
        weights: { body: poisoned },
        message: `${folder}/weights.bin: tensor mid_block1.conv1.weight has a non-finite value (NaN) at index 0`,
      },
      {
        what: 'a card whose tensor has the wrong shape',
        card: json(wrongShape),
        message:
          `${folder}/card.json: tensor conv_in.weight has shape [32, 3, 3, 3], ` +
          'but the architecture needs [32, 1, 3, 3]',
      },
      {
        what: 'a card whose checksum does not match the weights',
        card: json(otherSha),
        message: `${folder}/weights.bin: sha256 is ${card.weights.sha256} but ${folder}/card.json says ${'0'.repeat(64)}`,
      },
      {
        what: "another model's card",
        card: { contentType: 'application/json', body: mnistCard },
        message: `${folder}/card.json: is the card of model "mnist", but the model list names it "${FASHION}"`,
      },
    ];

    for (const fault of cases) {
      await test.step(fault.what, async () => {
        if (fault.card)
          await page.route(`**/models/${FASHION}/card.json`, (r) => r.fulfill(fault.card));
        if (fault.weights) {
          await page.route(`**/models/${FASHION}/weights.bin`, (r) => r.fulfill(fault.weights));
        }
        await modelSelect(page).selectOption(FASHION);
        const message = alertWith(page, fault.message);
        await expect(message).toHaveCount(1);
        await expect(message).toContainText(`Could not load model "${FASHION}": `);
        await expect(message).toContainText('Still using "mnist".');
        await expect(modelSelect(page)).toHaveValue('mnist');
        await expect(generateButton(page)).toBeEnabled();
        await page.unrouteAll();
      });
    }

    // The previous model still generates, to the last step.
    await generateToEnd(page);
    await expect(readout(page)).toHaveAttribute('data-step', '4');
    // And the real second model, served as shipped, loads.
    await modelSelect(page).selectOption(FASHION);
    await expect(generateButton(page)).toBeEnabled({ timeout: 60_000 });
    await expect(modelSelect(page)).toHaveValue(FASHION);
    await expect(page.getByRole('alert')).toHaveCount(cases.length);
    expect(errors).toEqual([]);
  });

  test('an unknown model id, and a listed model whose folder is missing, leave the app working', async ({
    page,
  }) => {
    const errors = watchPage(page);
    await page.route('**/models/index.json', async (route) => {
      const index = (await (await route.fetch()).json()) as { models: unknown[] };
      index.models.push(
        { id: 'ghost', name: 'A model that is not there', card: 'ghost/card.json' },
        { id: '../../etc', name: 'Hostile', card: '../../etc/card.json' },
        { id: 'elsewhere', name: 'Another site', card: 'https://example.invalid/card.json' },
      );
      await route.fulfill({ json: index });
    });
    await openReady(page, '?model=nope&batch=1&steps=3');
    await expect(
      alertWith(
        page,
        'Ignored model="nope" in the URL: no such model (mnist, fashion-mnist, mnist-linear, emoji, ghost).',
      ),
    ).toBeVisible();
    await expect(
      alertWith(
        page,
        'Skipped model 6 of /models/index.json: its id "../../etc" is not a model id.',
      ),
    ).toBeVisible();
    await expect(
      alertWith(
        page,
        'Skipped model 7 of /models/index.json: model "elsewhere" lies on another site.',
      ),
    ).toBeVisible();
    await expect(modelSelect(page)).toHaveValue('mnist');

    await modelSelect(page).selectOption('ghost');
    await expect(
      alertWith(
        page,
        /Could not load model "ghost": http:\/\/[^ ]+\/models\/ghost\/card\.json: (HTTP 404 Not Found|is an HTML page, not a model file \(is the model missing here\?\))\. Still using "mnist"\./,
      ),
    ).toBeVisible();
    await expect(modelSelect(page)).toHaveValue('mnist');
    await generateToEnd(page);
    await expect(readout(page)).toHaveAttribute('data-step', '3');
    expect(errors).toEqual([]);
  });
});

test.describe('WebGPU device lost', () => {
  test('the engine re-initialises and the run continues from its last step', async ({
    page,
  }, testInfo) => {
    test.skip(testInfo.project.name !== 'webgpu-flag', 'needs WebGPU (--enable-unsafe-webgpu)');
    // SwiftShader (WebGPU on the CPU) takes seconds per step here.
    test.setTimeout(600_000);
    const errors = watchPage(page);
    // Euler keeps no history between steps: a restored run must end on exactly the same image.
    await openReady(page, '?backend=webgpu&debug=1&batch=1&steps=4&sampler=Euler&seed=5');
    await expect(page.getByTestId('backend-name')).toHaveAttribute('data-backend', 'webgpu');

    // Two single steps, then the device goes away under the paused run.
    const stepButton = page.getByRole('button', { name: 'Step', exact: true });
    for (let k = 1; k <= 2; k++) {
      await stepButton.click();
      // The first step compiles every shader of the U-Net: minutes on a loaded CPU.
      await expect(readout(page)).toHaveAttribute('data-step', String(k), { timeout: 180_000 });
      await expect(status(page)).toHaveAttribute('data-status', 'paused');
    }
    await page.evaluate(() => window.__playground!.loseDevice());
    const message = alertWith(page, /^The GPU device was lost \(destroyed/);
    await expect(message).toContainText(
      're-initialised WebGPU and reloaded the model. The run continues from step 2.',
      { timeout: 180_000 },
    );
    await expect(page.getByTestId('backend-name')).toHaveAttribute('data-state', 'ready');
    await expect(page.getByTestId('backend-name')).toHaveAttribute('data-backend', 'webgpu');
    await expect(readout(page)).toHaveAttribute('data-step', '2');
    await expect(status(page)).toHaveAttribute('data-status', 'paused');

    await recordSteps(page);
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect(status(page)).toHaveAttribute('data-status', 'done', { timeout: 180_000 });
    const steps = await recordedSteps(page);
    expect(steps[0]).toBe(3);
    expect(steps.at(-1)).toBe(4);
    expect(Math.min(...steps)).toBeGreaterThanOrEqual(3);
    const restored = await canvasRgba(page, X_T);
    // The same run without a loss (Step is for a run not yet finished: this one goes second).
    await generateToEnd(page);
    const uninterrupted = await canvasRgba(page, X_T);
    let maxDiff = 0;
    for (let i = 0; i < restored.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(restored[i] - uninterrupted[i]));
    }
    expect(maxDiff).toBeLessThanOrEqual(1);

    // Lost while running: the run goes on by itself, never back to step 0.
    await setSteps(page, 6);
    await recordSteps(page);
    await generateButton(page).click();
    await expect
      .poll(async () => Number(await readout(page).getAttribute('data-step')), { timeout: 60_000 })
      .toBeGreaterThanOrEqual(2);
    await page.evaluate(() => window.__playground!.loseDevice());
    await expect(alertWith(page, /^The GPU device was lost/)).toHaveCount(2, { timeout: 180_000 });
    await expect(status(page)).toHaveAttribute('data-status', 'done', { timeout: 180_000 });
    const during = await recordedSteps(page);
    const firstBig = during.findIndex((s) => s >= 2);
    expect(Math.min(...during.slice(firstBig))).toBeGreaterThanOrEqual(1);
    expect(during.at(-1)).toBe(6);
    expect(errors).toEqual([]);
  });
});

async function setSteps(page: Page, steps: number) {
  const field = page.getByRole('spinbutton', { name: 'Steps', exact: true });
  await field.fill(String(steps));
  await field.press('Enter');
  await expect(field).toHaveValue(String(steps));
}

/** A mouse stroke on the Mask canvas between two points in image pixels (0..28). */
async function stroke(page: Page, from: [number, number], to: [number, number]) {
  const canvas = page.getByRole('img', { name: 'Mask' });
  await canvas.scrollIntoViewIfNeeded();
  const box = (await canvas.boundingBox())!;
  const at = ([x, y]: [number, number]) =>
    [box.x + (x / SIZE) * box.width, box.y + (y / SIZE) * box.height] as const;
  await page.mouse.move(...at(from));
  await page.mouse.down();
  await page.mouse.move(...at(to), { steps: 4 });
  await page.mouse.up();
}

test.describe('engine worker crash', () => {
  test('the UI restarts the worker, says so, and keeps the mask', async ({ page }, testInfo) => {
    test.skip(testInfo.project.name !== 'default', 'the worker is the same in both projects');
    const errors = watchPage(page);
    await openReady(page, '?debug=1&batch=1&steps=4');
    await page.getByRole('button', { name: 'MNIST test #3 (0)', exact: true }).click();
    await page.getByRole('radio', { name: 'Inpaint' }).check();
    await page.getByLabel('Brush size').fill('2');
    await stroke(page, [3, 4], [24, 10]);
    const mask = page.getByRole('img', { name: 'Mask' });
    const painted = Number(await mask.getAttribute('data-mask-count'));
    expect(painted).toBeGreaterThan(20);
    const maskPixels = await canvasRgba(page, 'Mask');

    // An uncaught exception in the worker, in the middle of a paused run.
    const stepButton = page.getByRole('button', { name: 'Step', exact: true });
    await stepButton.click();
    await stepButton.click();
    await expect(readout(page)).toHaveAttribute('data-step', '2');
    await page.evaluate(() => window.__playground!.crashWorker('throw'));
    await expect(
      alertWith(
        page,
        /^The engine stopped \(.*debug: an uncaught exception in the engine worker\) and was restarted\. The run in progress stopped at step 2; press Generate to run it again\./,
      ),
    ).toBeVisible();
    await expect(generateButton(page)).toBeEnabled({ timeout: 60_000 });
    await expect(status(page)).not.toHaveAttribute('data-status', /running|paused/);
    await expect(mask).toHaveAttribute('data-mask-count', String(painted));
    expect(await canvasRgba(page, 'Mask')).toEqual(maskPixels);
    await generateToEnd(page);
    await expect(readout(page)).toHaveAttribute('data-step', '4');

    // A worker that ends itself answers no heartbeat: found within the hang timeout.
    await page.evaluate(() => window.__playground!.crashWorker('close'));
    await expect(
      alertWith(
        page,
        /^The engine stopped \(it did not answer for \d+ s\) and was restarted\.(?! The run)/,
      ),
    ).toBeVisible({
      timeout: 45_000,
    });
    await expect(generateButton(page)).toBeEnabled({ timeout: 60_000 });
    expect(await canvasRgba(page, 'Mask')).toEqual(maskPixels);
    await generateToEnd(page);
    await expect(readout(page)).toHaveAttribute('data-step', '4');
    expect(errors).toEqual([]);
  });

  test('without debug=1 there is no hook', async ({ page }) => {
    await openReady(page);
    expect(await page.evaluate(() => typeof window.__playground)).toBe('undefined');
  });
});

test.describe('hostile input', () => {
  test('hostile URL parameters are refused with messages, never a crash', async ({ page }) => {
    test.setTimeout(240_000);
    const errors = watchPage(page);
    // Long, but under the request-line limit of the server (vite preview: Node's 16 kB).
    const long = 'A'.repeat(3000);
    const cases: [string, (string | RegExp)[]][] = [
      [
        `?steps=${'9'.repeat(3000)}&seed=${long}&model=${long}`,
        [
          `Ignored steps="${'9'.repeat(40)}…" in the URL`,
          `Ignored seed="${'A'.repeat(40)}…" in the URL`,
          `Ignored model="${'A'.repeat(40)}…" in the URL: no such model`,
        ],
      ],
      [
        '?class=<script>alert(1)</script>&sampler=<img src=x onerror=alert(2)>&backend=<svg onload=alert(3)>',
        [
          'Ignored class="<script>alert(1)</script>"',
          'Ignored sampler="<img src=x onerror=alert(2)>"',
          'Ignored backend=',
        ],
      ],
      [
        '?steps=NaN&guidance=-1&seed=-5&batch=1e9&eta=Infinity',
        [
          'Ignored steps="NaN"',
          'Ignored guidance="-1"',
          'Ignored seed="-5"',
          'Ignored batch="1e9"',
          'Ignored eta="Infinity"',
        ],
      ],
      ['?steps=0', ['Ignored steps="0" in the URL']],
      [
        '?steps=5&steps=6&colour=red&__proto__=x&constructor=y',
        [
          'steps appears 2 times in the URL: using the first, "5".',
          'Ignored unknown URL parameters "colour", "__proto__", "constructor".',
        ],
      ],
      [
        '?steps=%E0%A4%A&model=%E0%A4%A&backend=%',
        [
          'Ignored steps="\uFFFD%A"',
          'Ignored backend="%"',
          /Ignored model="\uFFFD%A" in the URL: no such model/,
        ],
      ],
    ];
    for (const [query, expected] of cases) {
      await test.step(query.slice(0, 80), async () => {
        await openReady(page, query);
        for (const text of expected) await expect(alertWith(page, text)).toHaveCount(1);
        await expect(page.getByRole('heading', { name: 'Diffusion Playground' })).toBeVisible();
      });
    }
    // The last page still generates.
    await generateToEnd(page);
    expect(errors).toEqual([]);
  });

  test('odd uploads and an empty mask get a message each, and the app keeps working', async ({
    page,
  }, testInfo) => {
    test.skip(testInfo.project.name !== 'default', 'no backend involved');
    const errors = watchPage(page);
    await openReady(page, '?batch=1&steps=4');
    await page.getByRole('button', { name: 'MNIST test #3 (0)', exact: true }).click();
    const label = page.getByTestId('source-label');
    await expect(label).toContainText('MNIST test #3 (0)');
    const source = await canvasRgba(page, 'Mask');
    const upload = page.getByLabel('Upload image');

    const u32 = (v: number) => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
    const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
    // A valid PNG signature and IHDR declaring 30000x30000, with a few bytes of pixel data.
    const bomb = Buffer.from([
      0x89,
      ...ascii('PNG\r\n\x1a\n'),
      ...u32(13),
      ...ascii('IHDR'),
      ...u32(30000),
      ...u32(30000),
      8,
      0,
      0,
      0,
      0,
      ...u32(0),
      ...u32(12),
      ...ascii('IDAT'),
      ...deflateSync(Buffer.alloc(64)).subarray(0, 12),
      ...u32(0),
    ]);
    const files = [
      {
        name: 'notes.pdf',
        mimeType: 'application/pdf',
        buffer: Buffer.from('%PDF-1.4'),
        message: 'notes.pdf is not an image (application/pdf)',
      },
      {
        name: 'empty.png',
        mimeType: 'image/png',
        buffer: Buffer.alloc(0),
        message: 'empty.png is empty (0 bytes).',
      },
      {
        name: 'garbage.png',
        mimeType: 'image/png',
        buffer: Buffer.from('this is not PNG data'),
        message: 'garbage.png could not be read as an image',
      },
      {
        name: 'bomb.png',
        mimeType: 'image/png',
        buffer: bomb,
        message:
          'bomb.png is a PNG of 30000x30000 pixels (900 megapixels); pictures up to 64 megapixels can be used.',
      },
    ];
    for (const file of files) {
      await upload.setInputFiles({ name: file.name, mimeType: file.mimeType, buffer: file.buffer });
      await expect(page.getByRole('alert').filter({ hasText: file.message })).toBeVisible();
      await expect(label).toContainText('MNIST test #3 (0)');
      expect(await canvasRgba(page, 'Mask')).toEqual(source);
    }

    // Inpainting with an empty mask: said plainly, and the run keeps the whole source.
    await page.getByRole('radio', { name: 'Inpaint' }).check();
    await page.getByRole('button', { name: 'Clear mask' }).click();
    await expect(page.getByText('Mask is empty: nothing will be re-imagined')).toBeVisible();
    await generateToEnd(page);
    const result = await canvasRgba(page, X_T);
    expect(result.length).toBe(SIZE * SIZE * 4);
    for (let i = 0; i < SIZE * SIZE; i++) {
      expect(Math.abs(result[4 * i] - source[4 * i]), `pixel ${i}`).toBeLessThanOrEqual(1);
    }
    expect(errors).toEqual([]);
  });
});
