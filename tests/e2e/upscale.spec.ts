// The cascade's super-resolution stage in the page: choose a 32x32 colour picture (a shipped
// example, an upload, or the emoji model's own sample), press Upscale and watch the SR model's
// reverse process; the 64x64 result shrunk back 2x2 must match the input it was given.
import { deflateSync } from 'node:zlib';
import { expect, test, type Page } from '@playwright/test';

/** Consistency threshold (dB): bicubic gets ~38 dB; a result that ignored its input gets < 15. */
const MIN_CONSISTENCY_DB = 22;

async function open(page: Page, query = '') {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`/${query}`);
  await expect(page.getByTestId('backend-name')).toHaveAttribute('data-state', 'ready');
  // Secondary panels start folded (layout/Panel): unfold this one.
  await page.locator('summary', { hasText: 'Upscale' }).click();
  await expect(page.getByTestId('upscale-panel')).toBeVisible();
  return errors;
}

async function upscaleToEnd(page: Page) {
  const panel = page.getByTestId('upscale-panel');
  await expect(panel.getByRole('button', { name: 'Upscale', exact: true })).toBeEnabled({
    timeout: 60_000,
  });
  await panel.getByRole('button', { name: 'Upscale', exact: true }).click();
  await expect(page.getByTestId('upscale-readout')).toHaveAttribute('data-status', 'done', {
    timeout: 120_000,
  });
}

/** Size of a canvas's image (its own pixels, not its CSS size). */
async function canvasSize(page: Page, label: string) {
  return page.evaluate((name) => {
    const canvas = document.querySelector<HTMLCanvasElement>(
      `[data-testid="upscale-views"] canvas[aria-label="${name}"]`,
    );
    if (!canvas) throw new Error(`no canvas ${name}`);
    return { width: canvas.width, height: canvas.height };
  }, label);
}

/** A 32x32 RGB PNG: a red disc on white (colour type 2, no filter). */
function redDiscPng(): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(32, 0);
  header.writeUInt32BE(32, 4);
  header[8] = 8;
  header[9] = 2;
  const raw = Buffer.alloc(32 * (1 + 32 * 3));
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const inside = (x - 15.5) ** 2 + (y - 15.5) ** 2 < 11 ** 2;
      raw.set(inside ? [220, 30, 40] : [255, 255, 255], y * (1 + 96) + 1 + 3 * x);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('an example emoji is upscaled to 64x64 step by step, consistent with its 32x32 input', async ({
  page,
}) => {
  const errors = await open(page);
  const panel = page.getByTestId('upscale-panel');
  const examples = panel.getByRole('combobox', { name: 'Example low-res picture' });
  await expect(examples).toBeEnabled({ timeout: 30_000 });
  await examples.selectOption({ index: 1 });
  await expect(page.getByTestId('upscale-source')).toContainText('Example:');
  await panel.getByLabel('Steps').fill('8');
  await upscaleToEnd(page);
  await expect(page.getByTestId('upscale-readout')).toContainText('step 8 of 8');
  expect(await canvasSize(page, 'x_t (upscaling)')).toEqual({ width: 64, height: 64 });
  expect(await canvasSize(page, 'Predicted x₀')).toEqual({ width: 64, height: 64 });
  const db = Number(await page.getByTestId('upscale-consistency').getAttribute('data-db'));
  expect(db).toBeGreaterThan(MIN_CONSISTENCY_DB);
  // The timeline goes back through the run: 8 steps + the starting noise.
  await expect(panel.getByText('frame 9 of 9')).toBeVisible();
  await panel.getByLabel('Upscale timeline').fill('0');
  await expect(page.getByTestId('upscale-readout')).toContainText('step 0 of 8');
  expect(errors).toEqual([]);
});

test('an uploaded 32x32 picture is upscaled with noise augmentation and another sampler', async ({
  page,
}) => {
  const errors = await open(page);
  const panel = page.getByTestId('upscale-panel');
  await panel.getByLabel('Upload a low-res picture to upscale').setInputFiles({
    name: 'red-disc.png',
    mimeType: 'image/png',
    buffer: redDiscPng(),
  });
  await expect(page.getByTestId('upscale-source')).toContainText('Upload: red-disc.png');
  await panel.getByLabel('Sampler').selectOption('DPM++ 2M');
  await panel.getByLabel('Steps').fill('10');
  await panel.getByLabel('Noise augmentation').fill('50');
  await upscaleToEnd(page);
  await expect(panel.getByText(/noised to s = 50/)).toBeVisible();
  const db = Number(await page.getByTestId('upscale-consistency').getAttribute('data-db'));
  expect(db).toBeGreaterThan(MIN_CONSISTENCY_DB);
  // Step back and forward again work on the finished run.
  await panel.getByRole('button', { name: 'Step back' }).click();
  await expect(page.getByTestId('upscale-readout')).toContainText('step 9 of 10');
  expect(errors).toEqual([]);
});

test('cascade: an emoji the latent model makes is upscaled as soon as its run ends', async ({
  page,
}) => {
  const errors = await open(page, '?model=emoji&batch=1&steps=8&guidance=5&seed=3');
  const prompt = page.getByRole('textbox', { name: 'Prompt', exact: true });
  await expect(prompt).toBeVisible({ timeout: 90_000 });
  await prompt.fill('red heart');
  const panel = page.getByTestId('upscale-panel');
  await panel.getByLabel('Steps').fill('8');
  await panel.getByRole('checkbox', { name: /Cascade/ }).check();
  await expect(page.getByRole('button', { name: 'Generate', exact: true })).toBeEnabled({
    timeout: 90_000,
  });
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', {
    timeout: 120_000,
  });
  await expect(page.getByTestId('upscale-source')).toContainText('Cascade');
  await expect(page.getByTestId('upscale-readout')).toHaveAttribute('data-status', 'done', {
    timeout: 120_000,
  });
  expect(await canvasSize(page, 'x_t (upscaling)')).toEqual({ width: 64, height: 64 });
  const db = Number(await page.getByTestId('upscale-consistency').getAttribute('data-db'));
  expect(db).toBeGreaterThan(MIN_CONSISTENCY_DB);
  // "Use main view image" takes the same picture for a manual upscale.
  await panel.getByRole('button', { name: 'Use main view image' }).click();
  await expect(page.getByTestId('upscale-source')).toContainText('Last sample');
  expect(errors).toEqual([]);
});

test('speed: a 20-step upscale of 4 examples at once, timed in the page', async ({ page }) => {
  await open(page);
  const panel = page.getByTestId('upscale-panel');
  const examples = panel.getByRole('combobox', { name: 'Example low-res picture' });
  await expect(examples).toBeEnabled({ timeout: 30_000 });
  await examples.selectOption('batch');
  await expect(page.getByTestId('upscale-source')).toContainText('Examples 1-4');
  // A warm-up run first (wasm compiles and tunes on its first calls).
  await panel.getByLabel('Steps').fill('2');
  await upscaleToEnd(page);
  await panel.getByLabel('Steps').fill('20');
  const t0 = Date.now();
  await upscaleToEnd(page);
  const seconds = (Date.now() - t0) / 1000;
  const readout = page.getByTestId('upscale-readout');
  await expect(readout).toHaveAttribute('data-batch', '4');
  const stepMs = Number(await readout.getAttribute('data-model-ms'));
  const backend = await page.getByTestId('backend-name').innerText();
  console.log(
    `SR speed in the page (${backend}): 20-step DDIM upscale of 4 images ${seconds.toFixed(2)} s, last step ${stepMs} ms`,
  );
  expect(stepMs).toBeGreaterThan(0);
  const db = Number(await page.getByTestId('upscale-consistency').getAttribute('data-db'));
  expect(db).toBeGreaterThan(MIN_CONSISTENCY_DB);
});
