// Text-to-image through the latent pipeline, as a person uses it: pick the emoji model, type a
// prompt (unknown words are shown as ignored, the vocabulary suggests words), press Generate and
// watch a colour emoji come out of the latents; the prompt lives in the URL; inpainting and
// img2img go through the autoencoder.
import { expect, test, type Page } from '@playwright/test';

const X_T = 'Noisy sample x_t';

async function open(page: Page, query: string) {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`/${query}`);
  await expect(page.getByTestId('backend-name')).toHaveAttribute('data-state', 'ready');
  await expect(page.getByRole('textbox', { name: 'Prompt', exact: true })).toBeVisible({
    timeout: 90_000,
  });
  await expect(page.getByRole('button', { name: 'Generate' })).toBeEnabled({ timeout: 90_000 });
  return errors;
}

async function generateToEnd(page: Page) {
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', {
    timeout: 120_000,
  });
}

/** RGBA bytes of a canvas. */
async function canvasRgba(page: Page, name: string): Promise<number[]> {
  return page.evaluate((label) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`canvas[aria-label="${label}"]`);
    if (!canvas) throw new Error(`no canvas ${label}`);
    return Array.from(
      canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data,
    );
  }, name);
}

/** Share of pixels whose channels differ by more than 40 (grey pixels have R = G = B). */
function colourfulShare(rgba: number[]): number {
  let colourful = 0;
  for (let i = 0; i < rgba.length; i += 4) {
    const [r, g, b] = [rgba[i], rgba[i + 1], rgba[i + 2]];
    if (Math.max(r, g, b) - Math.min(r, g, b) > 40) colourful++;
  }
  return colourful / (rgba.length / 4);
}

test('a prompt makes a colour emoji in latent space, step by step', async ({ page }) => {
  const errors = await open(page, '?model=emoji&batch=1&steps=12&guidance=5&seed=3');
  await expect(page.getByRole('combobox', { name: 'Class' })).toHaveCount(0);
  const prompt = page.getByRole('textbox', { name: 'Prompt', exact: true });
  await prompt.fill('red heart');
  await expect(page).toHaveURL(/[?&]prompt=red(\+|%20)heart(&|$)/);
  await expect(page.getByText(/Ignored/)).toHaveCount(0);

  await generateToEnd(page);
  await expect(page.getByTestId('step-readout')).toHaveAttribute('data-total', '12');
  // The decoded sample is a colour picture; the latent view is the 4 channels in grey.
  const image = await canvasRgba(page, X_T);
  expect(colourfulShare(image)).toBeGreaterThan(0.05);
  const latent = await canvasRgba(page, 'Latent x_t');
  expect(colourfulShare(latent)).toBe(0);
  expect(new Set(latent.filter((_, i) => i % 4 === 0)).size).toBeGreaterThan(8);
  // Red heart: red dominates the coloured pixels.
  let red = 0;
  let coloured = 0;
  for (let i = 0; i < image.length; i += 4) {
    if (
      Math.max(image[i], image[i + 1], image[i + 2]) -
        Math.min(image[i], image[i + 1], image[i + 2]) >
      40
    ) {
      coloured++;
      if (image[i] > image[i + 1] + 40 && image[i] > image[i + 2] + 40) red++;
    }
  }
  expect(red / coloured).toBeGreaterThan(0.5);
  expect(errors).toEqual([]);
});

test('unknown words are shown as ignored, words are suggested, an empty prompt is unconditional', async ({
  page,
}) => {
  const errors = await open(page, '?model=emoji&batch=1&steps=4&prompt=zzqx%20cat%20face');
  await expect(page.getByRole('textbox', { name: 'Prompt', exact: true })).toHaveValue(
    'zzqx cat face',
  );
  await expect(page.getByText(/Ignored \(not in the model’s vocabulary\): “zzqx”/)).toBeVisible();
  const prompt = page.getByRole('textbox', { name: 'Prompt', exact: true });
  await prompt.fill('smiling ca');
  await page.getByRole('button', { name: 'cat', exact: true }).click();
  await expect(prompt).toHaveValue('smiling cat ');
  await prompt.fill('');
  await expect(page.getByText(/No known words: the model draws unconditionally/)).toBeVisible();
  await generateToEnd(page);
  await page.getByRole('textbox', { name: 'Negative prompt', exact: true }).fill('yellow face');
  await expect(page).toHaveURL(/[?&]negative=yellow(\+|%20)face(&|$)/);
  await generateToEnd(page);
  expect(errors).toEqual([]);
});

test('a pipeline whose components disagree is refused with the file named; the old model stays', async ({
  page,
}) => {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.route('**/models/emoji/unet/config.json', async (route) => {
    const config = (await (await route.fetch()).json()) as Record<string, unknown>;
    await route.fulfill({ json: { ...config, cross_attention_dim: 64 } });
  });
  await page.goto('/?model=mnist&batch=1&steps=3');
  await expect(page.getByRole('button', { name: 'Generate' })).toBeEnabled({ timeout: 60_000 });
  await page.getByRole('combobox', { name: 'Model' }).selectOption('emoji');
  const alert = page.getByRole('alert').filter({ hasText: 'Could not load model "emoji"' });
  await expect(alert).toContainText('unet/config.json');
  await expect(alert).toContainText('cross_attention_dim');
  await expect(alert).toContainText('Still using "mnist".');
  await expect(page.getByRole('combobox', { name: 'Model' })).toHaveValue('mnist');
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'done', {
    timeout: 60_000,
  });
  expect(errors).toEqual([]);
});
