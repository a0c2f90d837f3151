// How the bench scripts launch Chromium: the same executable and flags as playwright.config.ts.
import { existsSync } from 'node:fs';

/** Debian's chromium where it exists; CHROMIUM_PATH overrides; else Playwright's own browser. */
export const CHROMIUM_EXECUTABLE =
  process.env.CHROMIUM_PATH || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);

/** Without the background-networking flags Chromium floods a closed network with connections. */
export const CHROMIUM_BASE_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
