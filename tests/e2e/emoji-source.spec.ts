// The source editor with the colour emoji model, driven as a person would: the picker offers
// emoji (32x32 RGB, on white), a mask painted over part of one is inpainted through the
// autoencoder's latents, and img2img at strength 0.5 stays close to the source. In latent space
// the kept region is encoded and decoded, so it stays close to the source rather than equal.
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { cellBytes, exampleName, parseExamplesIndex } from '../../src/source/examplesIndex';
import { decodePng } from '../unit/source-png';

const SIZE = 32;
const X_T = 'Noisy sample x_t';

/** The emoji example the test picks, its accessible name and its RGB bytes (HWC). */
function emojiExample(labelName: string): { name: string; rgb: Uint8Array } {
  const index = parseExamplesIndex(JSON.parse(readFileSync('public/examples/index.json', 'utf8')));
  const dataset = index.datasets.find((d) => d.id === 'emoji')!;
  const example = index.examples.find((e) => e.dataset === 'emoji' && e.labelName === labelName)!;
  const png = decodePng(readFileSync(`public/examples/${dataset.sprite}`));
  const rgba = new Uint8Array(png.width * png.height * 4);
  for (let p = 0; p < png.width * png.height; p++) {
    rgba.set([png.pixels[3 * p], png.pixels[3 * p + 1], png.pixels[3 * p + 2], 255], 4 * p);
  }
  return {
    name: exampleName(index, example),
    rgb: cellBytes(dataset, rgba, png.width, example.cell),
  };
}

async function canvasRgba(page: Page, name: string): Promise<number[]> {
  return page.evaluate((label) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`canvas[aria-label="${label}"]`);
    if (!canvas) throw new Error(`no canvas ${label}`);
    return Array.from(
      canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data,
    );
  }, name);
}

/** Mean absolute difference (0..255) of RGBA `rgba` to the RGB source over the pixels `where`. */
function meanDiff(rgba: number[], rgb: Uint8Array, where: (x: number, y: number) => boolean) {
  let sum = 0;
  let count = 0;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      if (!where(x, y)) continue;
      const p = y * SIZE + x;
      for (let c = 0; c < 3; c++) sum += Math.abs(rgba[4 * p + c] - rgb[3 * p + c]);
      count += 3;
    }
  }
  return sum / count;
}

/** A mouse stroke on the Mask canvas between two points in image pixels (0..32). */
async function stroke(page: Page, from: [number, number], to: [number, number]) {
  const canvas = page.getByRole('img', { name: 'Mask' });
  await canvas.scrollIntoViewIfNeeded();
  const box = (await canvas.boundingBox())!;
  const at = ([x, y]: [number, number]) =>
    [box.x + (x / SIZE) * box.width, box.y + (y / SIZE) * box.height] as const;
  await page.mouse.move(...at(from));
  await page.mouse.down();
  await page.mouse.move(...at(to), { steps: 6 });
  await page.mouse.up();
}

async function open(page: Page) {
  await page.goto('/?model=emoji&batch=1&steps=6');
  await expect(page.getByRole('textbox', { name: 'Prompt', exact: true })).toBeVisible({
    timeout: 90_000,
  });
  await expect(page.getByRole('button', { name: 'Generate', exact: true })).toBeEnabled({
    timeout: 90_000,
  });
}

async function generateToEnd(page: Page) {
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', {
    timeout: 120_000,
  });
}

test('an emoji example is inpainted under a painted mask and img2img stays close to it', async ({
  page,
}, testInfo) => {
  test.setTimeout(300_000);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await open(page);
  const example = emojiExample('fox');

  // The picker offers the emoji model's own data set, with its credit, and no digits.
  await expect(page.getByRole('group', { name: 'Emoji examples' })).toBeVisible();
  await expect(page.getByRole('group', { name: 'MNIST examples' })).toHaveCount(0);
  await expect(page.getByText(/Twemoji © Twitter.*CC-BY 4\.0.*Noto Emoji © Google/)).toBeVisible();
  await page.getByRole('button', { name: example.name, exact: true }).click();
  await expect(page.getByTestId('source-label')).toContainText(example.name);
  await expect(page.getByTestId('mask-count')).toContainText('of 1024 pixels');

  // The Mask canvas shows the emoji in colour, at 32x32, byte for byte (no mask yet).
  const shown = await canvasRgba(page, 'Mask');
  expect(shown).toHaveLength(SIZE * SIZE * 4);
  expect(meanDiff(shown, example.rgb, () => true)).toBe(0);

  // Inpaint the right half: brush size 8 strokes down x = 20 and x = 28 cover x >= 16.
  await page.getByRole('radio', { name: 'Inpaint' }).check();
  await page.getByLabel('Brush size').fill('8');
  await stroke(page, [20, 0.2], [20, 31.8]);
  await stroke(page, [28, 0.2], [28, 31.8]);
  const count = Number(
    await page.getByRole('img', { name: 'Mask' }).getAttribute('data-mask-count'),
  );
  expect(count).toBeGreaterThanOrEqual(480);
  expect(count).toBeLessThanOrEqual(560);

  await generateToEnd(page);
  const inpainted = await canvasRgba(page, X_T);
  expect(inpainted).toHaveLength(SIZE * SIZE * 4);
  // Kept: the left part, a latent cell (4 px) away from the mask's edge.
  const kept = meanDiff(inpainted, example.rgb, (x) => x < 12);
  const redone = meanDiff(inpainted, example.rgb, (x) => x >= 20);
  testInfo.annotations.push({
    type: 'inpaint',
    description: `mean |diff| kept ${kept.toFixed(1)}, masked ${redone.toFixed(1)} (of 255)`,
  });
  await page
    .getByRole('img', { name: X_T })
    .screenshot({ path: testInfo.outputPath('inpaint.png') });
  expect(kept).toBeLessThan(16);
  expect(redone).toBeGreaterThan(kept + 8);

  // img2img at strength 0.5: the result keeps the source's layout and colours.
  await page.getByRole('radio', { name: 'img2img' }).check();
  await page.getByLabel('Strength').fill('0.5');
  await expect(page.getByLabel('Strength')).toHaveValue('0.5');
  await generateToEnd(page);
  const img2img = await canvasRgba(page, X_T);
  const close = meanDiff(img2img, example.rgb, () => true);
  // What "not close" looks like here: the source against a white image of the same size.
  const white = meanDiff(new Array(SIZE * SIZE * 4).fill(255), example.rgb, () => true);
  testInfo.annotations.push({
    type: 'img2img',
    description: `mean |diff| ${close.toFixed(1)} (a blank white image: ${white.toFixed(1)})`,
  });
  await page
    .getByRole('img', { name: X_T })
    .screenshot({ path: testInfo.outputPath('img2img.png') });
  expect(close).toBeLessThan(white * 0.6);

  // A new drawing for the colour model is white, with a brush colour to draw in.
  await page.getByRole('button', { name: 'New drawing' }).click();
  await expect(page.getByLabel('Brush colour')).toHaveValue('#000000');
  // (The mask stays: the left part, outside it, shows the new white canvas as it is.)
  const blank = await canvasRgba(page, 'Mask');
  expect(meanDiff(blank, new Uint8Array(SIZE * SIZE * 3).fill(255), (x) => x < 12)).toBe(0);
  expect(errors).toEqual([]);
});

test('a digit source and its mask are converted, not lost, when the emoji model is loaded', async ({
  page,
}) => {
  test.setTimeout(240_000);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto('/?model=mnist&batch=1&steps=3');
  await expect(page.getByRole('button', { name: 'Generate', exact: true })).toBeEnabled({
    timeout: 90_000,
  });
  const digit = 'MNIST test #3 (0)';
  await page.getByRole('button', { name: digit, exact: true }).click();
  await page.getByRole('radio', { name: 'Inpaint' }).check();
  await page.getByRole('button', { name: 'Fill mask' }).click();
  await expect(page.getByTestId('mask-count')).toContainText('784 of 784 pixels');

  await page.getByRole('combobox', { name: 'Model' }).selectOption('emoji');
  await expect(page.getByRole('textbox', { name: 'Prompt', exact: true })).toBeVisible({
    timeout: 90_000,
  });
  // Same source, same (full) mask, now 32x32 and RGB: the digit replicated into three channels.
  await expect(page.getByTestId('mask-count')).toContainText('1024 of 1024 pixels');
  await expect(page.getByTestId('source-label')).toContainText(digit);
  await expect(page.getByRole('radio', { name: 'Inpaint' })).toBeChecked();
  await page.getByRole('button', { name: 'Clear mask' }).click();
  const rgba = await canvasRgba(page, 'Mask');
  expect(rgba).toHaveLength(SIZE * SIZE * 4);
  let bright = 0;
  for (let p = 0; p < SIZE * SIZE; p++) {
    const [r, g, b] = rgba.slice(4 * p, 4 * p + 3);
    expect(r === g && g === b).toBe(true);
    if (r > 200) bright++;
  }
  expect(bright).toBeGreaterThan(60); // the zero's strokes

  // The converted source survives a reload at the colour geometry.
  await page.reload();
  await expect(page.getByTestId('source-label')).toContainText(digit, { timeout: 90_000 });
  await expect(page.getByTestId('mask-count')).toContainText('of 1024 pixels', {
    timeout: 90_000,
  });
  expect(errors).toEqual([]);
});
