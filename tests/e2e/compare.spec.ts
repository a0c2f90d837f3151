// Compare, the X/Y grid and the batch grid's "use this", on the real model (wasm): two samplers
// stepping together, a 2×2 grid exported as a PNG of the layout's size, and a batch image that
// becomes the source pixel for pixel. Short runs (4-5 steps): the checks are about wiring.
import { mkdirSync, readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { xyCellOrigin, xyGridLayout } from '../../src/compare/xyGridImage';

// Three engine workers start in each test (the page's and two lanes): room for a busy machine.
test.describe.configure({ timeout: 240_000 });

test.beforeEach(() => {
  test.skip(
    test.info().project.name !== 'default',
    'the lanes are the same workers in both projects',
  );
});

async function open(page: Page, query: string): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`/${query}`);
  await expect(page.getByRole('button', { name: 'Generate' })).toBeEnabled({ timeout: 90_000 });
  return errors;
}

/** Red channel of a canvas (the MNIST images are gray), and its size. */
async function canvasRed(page: Page, selector: string) {
  return page.locator(selector).evaluate((element) => {
    const canvas = element as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    return {
      width: canvas.width,
      height: canvas.height,
      red: Array.from(data.filter((_, i) => i % 4 === 0)),
    };
  });
}

test('Compare: two samplers from one seed step together and play to the end', async ({ page }) => {
  const errors = await open(page, '?steps=5&guidance=2&seed=7&batch=1');
  await page.getByText('Compare two settings').click();
  await expect(page.getByRole('combobox', { name: 'Compare setting', exact: true })).toHaveValue(
    'sampler',
  );
  await page.getByRole('combobox', { name: 'Left value', exact: true }).selectOption('Euler');
  await page.getByRole('combobox', { name: 'Right value', exact: true }).selectOption('DDIM');
  await page.getByRole('button', { name: 'Start comparison' }).click();
  const status = page.getByTestId('compare-status');
  await expect(status).toHaveAttribute('data-status', 'ready', { timeout: 90_000 });
  const sides = page.locator('figure.compare-view');
  await expect(sides).toHaveCount(2);
  // The same seed: both start from the same noise.
  const left0 = await canvasRed(page, 'canvas[aria-label="Compare left"]');
  const right0 = await canvasRed(page, 'canvas[aria-label="Compare right"]');
  expect(left0.red).toEqual(right0.red);

  for (const step of [1, 2]) {
    await page.getByRole('button', { name: 'Step both' }).click();
    await expect(status).toHaveAttribute('data-step', String(step));
    await expect(status).toHaveAttribute('data-status', 'ready');
    await expect(sides.nth(0)).toHaveAttribute('data-step', String(step));
    await expect(sides.nth(1)).toHaveAttribute('data-step', String(step));
  }
  await expect(sides.nth(0)).toContainText('Sampler Euler');
  await expect(sides.nth(1)).toContainText('Sampler DDIM');
  // Two samplers, two different images after the same steps.
  const left2 = await canvasRed(page, 'canvas[aria-label="Compare left"]');
  const right2 = await canvasRed(page, 'canvas[aria-label="Compare right"]');
  expect(left2.width).toBe(28);
  expect(left2.red).not.toEqual(right2.red);
  expect(left2.red).not.toEqual(left0.red);

  await page.getByRole('button', { name: 'Play both' }).click();
  await expect(status).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
  await expect(status).toHaveAttribute('data-step', '5');
  await expect(sides.nth(0)).toHaveAttribute('data-step', '5');
  await expect(sides.nth(1)).toHaveAttribute('data-step', '5');
  await expect(sides.nth(0)).toHaveAttribute('data-done', 'true');
  // The main view's run was never touched.
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'idle');
  expect(errors).toEqual([]);
});

test('X/Y grid: 2×2 of sampler × guidance renders and exports a PNG of its size', async ({
  page,
}, testInfo) => {
  // The README's picture wants finished digits; the check itself needs only a few steps.
  const steps = process.env.UPDATE_SCREENSHOT === '1' ? 20 : 4;
  if (process.env.UPDATE_SCREENSHOT === '1') test.setTimeout(600_000);
  const errors = await open(page, `?steps=${steps}&seed=3&batch=1&class=3`);
  await page.getByText('X/Y grid', { exact: true }).click();
  // A bad value is refused with a message, and nothing breaks.
  await page.getByRole('combobox', { name: 'X axis', exact: true }).selectOption('sampler');
  await page.getByRole('textbox', { name: 'X values', exact: true }).fill('Euler, Nope');
  await page.getByRole('button', { name: 'Render X/Y grid' }).click();
  await expect(page.getByRole('alert').filter({ hasText: '"Nope" is not one of' })).toBeVisible();

  await page.getByRole('textbox', { name: 'X values', exact: true }).fill('euler, DDIM');
  await page.getByRole('combobox', { name: 'Y axis', exact: true }).selectOption('guidanceScale');
  await page.getByRole('textbox', { name: 'Y values', exact: true }).fill('1, 5');
  await page.getByRole('button', { name: 'Render X/Y grid' }).click();
  const status = page.getByTestId('xy-status');
  await expect(status).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  await expect(status).toHaveAttribute('data-cells-done', '4');

  const layout = xyGridLayout(2, 2, 28, 28);
  expect([layout.width, layout.height]).toEqual([356, 268]);
  const shown = await canvasRed(page, 'canvas[aria-label="X/Y grid image"]');
  expect([shown.width, shown.height]).toEqual([layout.width, layout.height]);
  // Four different images: each cell's pixels differ from every other cell's.
  const cells = [0, 1, 2, 3].map((i) => {
    const { x, y } = xyCellOrigin(layout, i % 2, Math.floor(i / 2));
    const pixels: number[] = [];
    for (let r = 0; r < layout.cellHeight; r++) {
      const start = (y + r) * layout.width + x;
      pixels.push(...shown.red.slice(start, start + layout.cellWidth));
    }
    return pixels.join(',');
  });
  expect(new Set(cells).size).toBe(4);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export X/Y grid' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('mnist-seed3-xy-grid.png');
  const png = readFileSync(await download.path());
  await testInfo.attach('xy-grid.png', { body: png, contentType: 'image/png' });
  expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
  // IHDR: width and height, big-endian, at bytes 16 and 20.
  expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([layout.width, layout.height]);

  if (process.env.UPDATE_SCREENSHOT === '1') {
    // The README's picture: a finished comparison above the grid.
    await page.getByText('Compare two settings').click();
    await page.getByRole('button', { name: 'Start comparison' }).click();
    // The panels' column scrolls on its own: a tall window shows both panels whole.
    await page.setViewportSize({ width: 1366, height: 1500 });
    const compare = page.getByTestId('compare-status');
    await expect(compare).toHaveAttribute('data-status', 'ready', { timeout: 90_000 });
    await page.getByRole('button', { name: 'Play both' }).click();
    await expect(compare).toHaveAttribute('data-status', 'done', { timeout: 300_000 });
    mkdirSync('docs', { recursive: true });
    const boxes = await page
      .locator('.compare-tools')
      .evaluateAll((panels) => panels.map((p) => p.getBoundingClientRect().toJSON() as DOMRect));
    const top = Math.min(...boxes.map((b) => b.y));
    const clip = {
      x: Math.min(...boxes.map((b) => b.x)),
      y: top,
      width: Math.max(...boxes.map((b) => b.width)),
      height: Math.max(...boxes.map((b) => b.y + b.height)) - top,
    };
    await page.screenshot({ path: 'docs/compare.png', clip, fullPage: true });
  }
  expect(errors).toEqual([]);
});

test('batch grid: "Use image 3 as source" makes that image the img2img source', async ({
  page,
}) => {
  const errors = await open(page, '?steps=3&batch=4&seed=5');
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', {
    timeout: 90_000,
  });
  const use3 = page.getByRole('button', { name: 'Use image 3 as source' });
  await expect(page.getByRole('button', { name: /^Use image \d as source$/ })).toHaveCount(4);
  const thumb = await canvasRed(page, 'button:has-text("Use image 3 as source") canvas');
  await use3.click();
  await expect(
    page.getByRole('status').filter({ hasText: 'Image 3 is now the source' }),
  ).toBeVisible();
  await expect(page.getByTestId('source-label')).toContainText('Generated image 3');
  // The source store (saved to sessionStorage after edits settle) holds exactly image 3's
  // pixels, in img2img mode.
  const savedSource = () =>
    page.evaluate(() => {
      const raw = sessionStorage.getItem('diffusion-playground/source@1');
      const record = raw ? (JSON.parse(raw) as { mode: string; pixels: string | null }) : null;
      if (!record?.pixels) return null;
      const bytes = Uint8Array.from(atob(record.pixels), (c) => c.charCodeAt(0));
      const values = Array.from(new Float32Array(bytes.buffer));
      return { mode: record.mode, bytes: values.map((v) => Math.round((v + 1) * 127.5)) };
    });
  await expect.poll(async () => (await savedSource())?.mode).toBe('img2img');
  const record = (await savedSource())!;
  expect(record.mode).toBe('img2img');
  expect(record.bytes).toEqual(thumb.red);
  expect(new Set(thumb.red).size).toBeGreaterThan(2);
  expect(errors).toEqual([]);
});
