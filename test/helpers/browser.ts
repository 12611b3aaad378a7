import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { ROOT } from "./cli.js";

/** Debian's chromium package (CI installs it too); playwright-core only drives it. */
export const CHROMIUM = process.env.OPENCLAW_TEST_CHROMIUM ?? "/usr/bin/chromium";
/** Screenshots go here (gitignored), for a person to look at. */
export const RESULTS_DIR = path.join(ROOT, "test-results");

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** A headless Chromium with a fresh profile in a temp dir, nothing fetched from the network but what a test opens. */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = await mkdtemp(path.join(os.tmpdir(), "openclaw-chromium-"));
  // A fresh profile dir of our own (Playwright takes it as the persistent context's user data dir).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1360, height: 900 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await mkdir(RESULTS_DIR, { recursive: true });
  return {
    context,
    page,
    async screenshot(name) {
      const file = path.join(RESULTS_DIR, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
