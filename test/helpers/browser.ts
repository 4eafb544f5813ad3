// Chromium for the web app's end-to-end tests: Debian's /usr/bin/chromium driven by playwright-core,
// with the flags this closed network needs (stack-facts.md); playwright gives each browser a fresh profile.
// The gateway serves dist/web as built: the first browser of a test file rebuilds it when any file
// under web/ is newer, so a test never runs against a stale app.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = join(import.meta.dirname, '..', '..');

function newest(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const s = statSync(full);
    t = Math.max(t, s.isDirectory() ? newest(full) : s.mtimeMs);
  }
  return t;
}

let built = false;
/** Builds dist/web when web/ changed since it was built. */
export function ensureWebBuilt(): void {
  if (built) return;
  const index = join(ROOT, 'dist', 'web', 'index.html');
  let builtAt = 0;
  try {
    builtAt = statSync(index).mtimeMs;
  } catch {
    builtAt = 0;
  }
  if (newest(join(ROOT, 'web')) > builtAt) {
    // NODE_ENV=test (vitest's) would make Vite bundle React's development build.
    execFileSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'pipe', env: { ...process.env, NODE_ENV: 'production' } });
  }
  built = true;
}

export interface TestBrowser {
  browser: Browser;
  /** A new context (its own cookies) and page; `width` 390 for a phone. */
  newPage(options?: { width?: number; height?: number }): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

export async function startBrowser(): Promise<TestBrowser> {
  ensureWebBuilt();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const contexts: BrowserContext[] = [];
  return {
    browser,
    async newPage(options = {}) {
      const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: options.height ?? 860 } });
      contexts.push(context);
      const page = await context.newPage();
      // A failed script or a refused CSP shows in the test's output, not only as a blank page.
      page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') console.error(`page console: ${m.text()}`);
      });
      return { context, page };
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
      await browser.close();
    },
  };
}

/** Opens `path` and signs in with an API key through the sign-in form. */
export async function signIn(page: Page, baseUrl: string, apiKey: string, path = '/'): Promise<void> {
  await page.goto(baseUrl + path);
  await page.getByLabel('API key').fill(apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The navigation shows once signed in (Sign out itself is behind the menu at phone width).
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}
