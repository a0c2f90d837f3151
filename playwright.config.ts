import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

// Debian's chromium where it exists (CI, machines without Playwright's browser download), else
// Playwright's own browser (`npx playwright install chromium`). CHROMIUM_PATH overrides both.
const executablePath =
  process.env.CHROMIUM_PATH || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);

// Without the background-networking flags Chromium floods a closed network with connections.
const baseArgs = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// PW_PORT / PW_DIST let several builds be tested side by side (default: dist/ on 4173).
const PORT = Number(process.env.PW_PORT ?? 4173);
const DIST = process.env.PW_DIST ?? 'dist';

export default defineConfig({
  testDir: 'tests/e2e',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    headless: true,
    screenshot: 'only-on-failure',
    launchOptions: { executablePath, args: baseArgs },
  },
  projects: [
    { name: 'default', use: { launchOptions: { executablePath, args: baseArgs } } },
    {
      // Headless Chromium exposes WebGPU only with this flag (a SwiftShader adapter here).
      name: 'webgpu-flag',
      use: { launchOptions: { executablePath, args: [...baseArgs, '--enable-unsafe-webgpu'] } },
    },
  ],
  webServer: {
    command: `npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort --outDir ${DIST}`,
    url: `http://127.0.0.1:${PORT}`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});
