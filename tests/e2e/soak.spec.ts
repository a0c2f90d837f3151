// A random-interaction soak: 1,000 seeded random actions (run buttons, settings, the timeline,
// mask strokes and mask commands, sources, keys) fired at the app while runs are going, without
// waiting for the runs. Afterwards: no uncaught error, no console error, no error message, the
// UI still runs a generation to its last step, and the worker holds exactly as many tensors
// after a clean run as after the identical clean run done before the soak (and the same pixels).
// SOAK_SEED and SOAK_ACTIONS override the seed and the number of actions.
import { expect, test, type Locator, type Page } from '@playwright/test';

const ACTIONS = Number(process.env.SOAK_ACTIONS ?? 1000);
const SEED = Number(process.env.SOAK_SEED ?? 20261126);

const SAMPLERS = [
  'Euler',
  'Euler a',
  'Heun',
  'LMS',
  'LMS Karras',
  'DPM2',
  'DPM2 Karras',
  'DPM2 a',
  'DPM2 a Karras',
  'DPM++ 2M',
  'DPM++ 2M Karras',
  'DPM++ 2M SDE',
  'DPM++ 2M SDE Karras',
  'DPM++ 3M',
  'DPM++ 2S',
  'DPM++ 2S Karras',
  'UniPC',
  'DEIS',
  'DDIM',
  'PLMS',
  'DDPM',
];
const SCHEDULES = ['default', 'karras', 'exponential'];
const SPACINGS = ['default', 'linspace', 'leading', 'trailing'];
const MODELS = ['mnist', 'fashion-mnist'];
const MAX_SEED = 2 ** 32 - 1;

/** The settings of the clean runs before and after the soak. */
const CLEAN = { model: 'mnist', classId: '3', sampler: 'DPM++ 2M', steps: 6, guidance: 2 };
const CLEAN_SEED = 42;

/** mulberry32: a small seeded PRNG, so a failing soak can be replayed action for action. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)],
  };
}
type Random = ReturnType<typeof prng>;

const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });
const combo = (page: Page, name: string) => page.getByRole('combobox', { name, exact: true });
const spin = (page: Page, name: string) => page.getByRole('spinbutton', { name, exact: true });
const status = (page: Page) => page.getByTestId('run-status');
const readout = (page: Page) => page.getByTestId('step-readout');

/** A button pressed as a person would press it, greyed out or not (a disabled one does nothing). */
async function press(page: Page, name: string) {
  await button(page, name).click({ force: true, timeout: 5_000 });
  return `press ${name}`;
}

async function setNumber(field: Locator, value: number) {
  await field.fill(String(value), { timeout: 5_000 });
  await field.press('Enter', { timeout: 5_000 });
}

/** What an action did, for the log; null when it found nothing to do (a control is disabled). */
type Done = string | null;

/** Runs `act` on the control if it is there and enabled now. */
async function ifEnabled(control: Locator, what: string, act: (c: Locator) => Promise<unknown>) {
  if ((await control.count()) === 0 || !(await control.isEnabled())) return null;
  await act(control);
  return what;
}

const choose = (page: Page, name: string, value: string) =>
  ifEnabled(combo(page, name), `${name} = ${value}`, (c) => c.selectOption(value));

const type = (page: Page, name: string, value: number) =>
  ifEnabled(spin(page, name), `${name} = ${value}`, (c) => setNumber(c, value));

const slide = (control: Locator, what: string, value: number) =>
  ifEnabled(control, `${what} = ${value}`, (c) => c.fill(String(value), { timeout: 5_000 }));

/** A stroke on the Mask canvas between two random points, as a mouse drag. */
async function maskStroke(page: Page, random: Random): Promise<Done> {
  const canvas = page.getByRole('img', { name: 'Mask' });
  await canvas.scrollIntoViewIfNeeded({ timeout: 5_000 });
  const box = await canvas.boundingBox();
  if (!box) return null;
  const from = [random.next(), random.next()];
  const to = [random.next(), random.next()];
  const steps = random.int(1, 5);
  const at = ([x, y]: number[]) => [box.x + x * box.width, box.y + y * box.height] as const;
  await page.mouse.move(...at(from));
  await page.mouse.down();
  await page.mouse.move(...at(to), { steps });
  await page.mouse.up();
  const shown = (p: number[]) => p.map((v) => (v * 28).toFixed(1)).join(',');
  return `stroke ${shown(from)} -> ${shown(to)}`;
}

async function pressKey(page: Page, random: Random): Promise<Done> {
  // Keys act on the run only when focus is outside form fields: usually put it there first.
  const blur = random.next() < 0.8;
  if (blur) await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const key = random.pick([' ', 'ArrowRight', 'ArrowLeft', 'ArrowLeft']);
  await page.keyboard.press(key);
  return `key ${key === ' ' ? 'Space' : key}${blur ? '' : ' (focus kept)'}`;
}

async function pickExample(page: Page, random: Random): Promise<Done> {
  const examples = page.getByRole('button', { name: /^(MNIST|Fashion-MNIST) test #/ });
  const count = await examples.count();
  if (count === 0) return null;
  const example = examples.nth(random.int(0, count - 1));
  await example.click({ timeout: 5_000 });
  return `example ${await example.getAttribute('aria-label')}`;
}

/** Now and then let a run get somewhere (or finish) before the next action. */
async function pause(page: Page, random: Random): Promise<Done> {
  if (random.next() < 0.5) {
    const ms = random.int(50, 800);
    await page.waitForTimeout(ms);
    return `wait ${ms} ms`;
  }
  const ms = random.int(500, 4_000);
  await expect(status(page))
    .not.toHaveAttribute('data-status', 'running', { timeout: ms })
    .catch(() => undefined);
  return `wait up to ${ms} ms for the run to stop`;
}

type Action = (page: Page, random: Random) => Promise<Done>;

/** Each kind of action and its weight. */
const KINDS: Record<string, [number, Action]> = {
  generate: [8, (page) => press(page, 'Generate')],
  pause: [4, (page) => press(page, 'Pause')],
  resume: [4, (page) => press(page, 'Resume')],
  step: [5, (page) => press(page, 'Step')],
  stepBack: [5, (page) => press(page, 'Step back')],
  cancel: [3, (page) => press(page, 'Cancel')],
  sampler: [5, (page, r) => choose(page, 'Sampler', r.pick(SAMPLERS))],
  schedule: [3, (page, r) => choose(page, 'Schedule', r.pick(SCHEDULES))],
  spacing: [2, (page, r) => choose(page, 'Spacing', r.pick(SPACINGS))],
  // Mostly short runs, now and then a long one (up to the maximum, 200).
  steps: [5, (page, r) => type(page, 'Steps', r.next() < 0.8 ? r.int(1, 25) : r.int(26, 200))],
  guidance: [4, (page, r) => type(page, 'Guidance scale', r.int(0, 40) / 2)],
  eta: [1, (page, r) => type(page, 'Eta', r.int(0, 10) / 10)],
  seed: [3, (page, r) => type(page, 'Seed', r.next() < 0.1 ? MAX_SEED : r.int(0, 1e6))],
  randomiseSeed: [1, (page) => press(page, 'Randomise seed')],
  // Big batches are slow on a CPU: mostly 1 and 4.
  batch: [3, (page, r) => choose(page, 'Batch size', r.pick(['1', '1', '4', '4', '9', '16']))],
  // 0-9 and 10, the "no class" of both models.
  classId: [4, (page, r) => choose(page, 'Class', String(r.int(0, 10)))],
  model: [1, (page, r) => choose(page, 'Model', r.pick(MODELS))],
  timeline: [
    6,
    async (page, r) => {
      const slider = page.getByRole('slider', { name: 'Timeline' });
      const max = Number((await slider.getAttribute('max')) ?? 0);
      return slide(slider, 'Timeline', r.int(0, max));
    },
  ],
  maskStroke: [10, maskStroke],
  tool: [2, (page, r) => press(page, r.pick(['Brush', 'Brush', 'Eraser', 'Draw']))],
  brushSize: [2, (page, r) => slide(page.getByLabel('Brush size'), 'Brush size', r.int(1, 6))],
  invertMask: [2, (page) => press(page, 'Invert mask')],
  clearMask: [2, (page) => press(page, 'Clear mask')],
  fillMask: [1, (page) => press(page, 'Fill mask')],
  undo: [3, (page) => press(page, 'Undo')],
  example: [2, pickExample],
  newDrawing: [1, (page) => press(page, 'New drawing')],
  sourceMode: [
    3,
    async (page, r) => {
      const mode = r.pick(['None', 'Inpaint', 'Inpaint', 'img2img']);
      await page.getByRole('radio', { name: mode }).check({ timeout: 5_000 });
      return `source mode ${mode}`;
    },
  ],
  strength: [1, (page, r) => slide(page.getByLabel('Strength'), 'Strength', r.int(0, 20) / 20)],
  // RePaint's resampling while inpainting (each extra pass costs a run's worth of steps).
  resampling: [2, (page, r) => type(page, 'Resampling', r.pick([1, 1, 2, 3, 5]))],
  jumpLength: [
    1,
    async (page, r) => {
      const max = Number((await spin(page, 'Jump length').getAttribute('max')) ?? 1);
      return type(page, 'Jump length', r.int(1, max));
    },
  ],
  keys: [8, pressKey],
  wait: [3, pause],
};

function chooser(random: Random) {
  const entries = Object.entries(KINDS);
  const total = entries.reduce((sum, [, [weight]]) => sum + weight, 0);
  return () => {
    let x = random.next() * total;
    for (const [name, [weight, action]] of entries) {
      x -= weight;
      if (x < 0) return { name, action };
    }
    return { name: entries[0][0], action: entries[0][1][1] };
  };
}

async function waitReady(page: Page) {
  await expect(page.getByTestId('backend-name')).toHaveAttribute('data-state', 'ready', {
    timeout: 60_000,
  });
  await expect(button(page, 'Generate')).toBeEnabled({ timeout: 60_000 });
}

/** Puts every setting a run uses back to the clean run's values, and no source mode. */
async function cleanSettings(page: Page) {
  // Resampling and jump length can be set only while inpainting.
  await page.getByRole('radio', { name: 'Inpaint' }).check();
  await setNumber(spin(page, 'Resampling'), 1);
  await setNumber(spin(page, 'Jump length'), 1);
  await page.getByRole('radio', { name: 'None' }).check();
  const model = combo(page, 'Model');
  if ((await model.inputValue()) !== CLEAN.model) {
    await model.selectOption(CLEAN.model);
    await waitReady(page);
  }
  // Eta is used by some samplers only; it is shown (and reset here) with DDIM.
  await combo(page, 'Sampler').selectOption('DDIM');
  await setNumber(spin(page, 'Eta'), 0);
  await combo(page, 'Sampler').selectOption(CLEAN.sampler);
  await combo(page, 'Class').selectOption(CLEAN.classId);
  await combo(page, 'Schedule').selectOption('default');
  await combo(page, 'Spacing').selectOption('default');
  await combo(page, 'Batch size').selectOption('1');
  for (const [name, value] of [
    ['Steps', CLEAN.steps],
    ['Guidance scale', CLEAN.guidance],
    ['Seed', CLEAN_SEED],
  ] as const) {
    await setNumber(spin(page, name), value);
    await expect(spin(page, name)).toHaveValue(String(value));
  }
}

/** A clean run to its end: the worker's tensor count then, and the final x_t pixels. */
async function cleanRun(page: Page) {
  await cleanSettings(page);
  await button(page, 'Generate').click();
  await expect(status(page)).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
  await expect(readout(page)).toHaveAttribute('data-cause', 'final');
  await expect(readout(page)).toHaveAttribute('data-step', String(CLEAN.steps));
  await expect(readout(page)).toHaveAttribute('data-total', String(CLEAN.steps));
  const tensors = Number(await readout(page).getAttribute('data-num-tensors'));
  expect(tensors).toBeGreaterThan(0);
  const pixels = await page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>(
      'canvas[aria-label="Noisy sample x_t"]',
    )!;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    return Array.from(data);
  });
  return { tensors, pixels };
}

test(`${ACTIONS} random actions during runs leave no error, no stuck UI and no leaked tensor`, async ({
  page,
}, testInfo) => {
  test.setTimeout(15 * 60_000);
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  page.on('console', (message) => {
    // The browser asks for /favicon.ico by itself (the app has none): a 404 on the app's origin.
    if (message.location().url.endsWith('/favicon.ico')) return;
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  // The export buttons are left alone: they only read frames, and downloads would pile up.
  await page.goto('/');
  await waitReady(page);

  const before = await cleanRun(page);

  const random = prng(SEED);
  const next = chooser(random);
  const counts: Record<string, { done: number; idle: number }> = {};
  const log: string[] = [];
  const alerts = page.getByRole('alert');
  /** Stops the soak at the first problem, with the actions that led to it. */
  const failure = (what: string, cause?: unknown) =>
    new Error(`${what}\n(seed ${SEED}) last actions:\n${log.slice(-15).join('\n')}`, { cause });
  const started = Date.now();
  for (let i = 0; i < ACTIONS; i++) {
    const { name, action } = next();
    const tally = (counts[name] ??= { done: 0, idle: 0 });
    const done = await action(page, random).catch((err: Error) => {
      throw failure(`action ${i} (${name}) failed: ${err.message}`, err);
    });
    log.push(`${i}: ${done ?? `${name}: nothing to do`}`);
    if (done) tally.done++;
    else tally.idle++;
    if (problems.length > 0) throw failure(`after action ${i}: ${problems.join('\n')}`);
    // Error messages from the engine show as alerts; a look every few actions keeps it fast.
    if (i % 5 === 4 && (await alerts.count()) > 0) {
      throw failure(`after action ${i}: ${(await alerts.allTextContents()).join('\n')}`);
    }
    // The frame on show is somewhere on its run's plan.
    const shown = await readout(page).evaluate((el) => [el.dataset.step, el.dataset.total]);
    if (shown[0] && Number(shown[0]) > Number(shown[1])) {
      throw failure(`after action ${i}: the readout shows step ${shown[0]} of ${shown[1]}`);
    }
  }
  const soakSeconds = (Date.now() - started) / 1000;
  const statusAfterSoak = await status(page).getAttribute('data-status');

  // Not stuck: Cancel, then a short run with the soak's other settings reaches its last step
  // (from pure noise: img2img at a low strength would rightly be done before its first step).
  await press(page, 'Cancel');
  await expect(status(page)).not.toHaveAttribute('data-status', 'running');
  await waitReady(page);
  await page.getByRole('radio', { name: 'None' }).check();
  await setNumber(spin(page, 'Steps'), 3);
  await combo(page, 'Batch size').selectOption('1');
  await button(page, 'Generate').click();
  await expect(status(page)).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
  await expect(readout(page)).toHaveAttribute('data-cause', 'final');
  const total = await readout(page).getAttribute('data-total');
  expect(Number(total)).toBeGreaterThanOrEqual(3); // second-order samplers call the model more
  await expect(readout(page)).toHaveAttribute('data-step', total!);

  const after = await cleanRun(page);
  const messages = await page.getByRole('alert').allTextContents();
  const totalSeconds = (Date.now() - started) / 1000;

  const summary = [
    `[${testInfo.project.name}] soak: ${ACTIONS} actions, seed ${SEED}, ` +
      `${soakSeconds.toFixed(1)} s of actions (${((soakSeconds * 1000) / ACTIONS).toFixed(0)} ms each), ` +
      `${totalSeconds.toFixed(1)} s with the checks; status after the soak: ${statusAfterSoak}`,
    `  actions by kind (done/nothing to do): ${Object.entries(counts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, c]) => `${name} ${c.done}${c.idle ? `/${c.idle}` : ''}`)
      .join(', ')}`,
    `  worker tensors after the clean run: before the soak ${before.tensors}, after ${after.tensors}`,
    `  messages shown: ${messages.length === 0 ? 'none' : messages.join(' | ')}`,
  ].join('\n');
  console.log(summary);
  testInfo.annotations.push({ type: 'soak', description: summary });

  expect(problems).toEqual([]);
  expect(messages).toEqual([]);
  expect(Object.values(counts).reduce((sum, c) => sum + c.done + c.idle, 0)).toBe(ACTIONS);
  expect(after.tensors).toBe(before.tensors);
  // The engine is not left in an odd state either: the same settings give the same pixels.
  expect(after.pixels).toEqual(before.pixels);
});
