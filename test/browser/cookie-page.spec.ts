/// <reference lib="dom" />
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { type Browser, type Page, chromium } from 'playwright-core';
import { createSampleApp } from '../../sample/create-app.js';
import { ADAPTERS, listenOnLoopback } from '../support/app.js';

// Debian's chromium (.ci/run installs it); never a downloaded browser build.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`No browser at ${CHROMIUM}: apt-get install -y chromium (.ci/run does this)`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);
afterAll(() => browser?.close());

async function click(page: Page, selector: string, expectedStatus: string) {
  const lines = await page.locator('#log').textContent();
  await page.click(selector);
  await page.waitForFunction((before) => document.getElementById('log')!.textContent !== before, lines);
  expect(await page.locator('#status').textContent()).toBe(expectedStatus);
}

describe.each(ADAPTERS)('the sample page in a real browser (%s)', (adapter) => {
  let app: INestApplication;
  let base: string;
  beforeAll(async () => {
    app = await createSampleApp(adapter, { secret: 'browser-test-secret-of-32-bytes-min' }, false);
    base = await listenOnLoopback(app);
  });
  afterAll(() => app.close());

  it('logs in, posts with the CSRF header, refreshes and logs out', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await click(page, '#login-button', '200');

    const cookies = await context.cookies();
    const byName = Object.fromEntries(cookies.map((c) => [c.name, c]));
    expect(byName.access_token_cookie.httpOnly).toBe(true);
    expect(byName.csrf_access_token.httpOnly).toBe(false);
    expect(byName.access_token_cookie.sameSite).toBe('Strict');
    // the page's script cannot read the token cookie, only the CSRF one
    const visible = await page.evaluate(() => document.cookie);
    expect(visible).toContain('csrf_access_token=');
    expect(visible).not.toContain('access_token_cookie=');

    await click(page, '#note', '201');
    // the same request without the CSRF header is refused by the library
    const forged = await page.evaluate(async () => (await fetch('/cookie/notes', { method: 'POST', credentials: 'same-origin' })).status);
    expect(forged).toBe(401);

    await click(page, '#refresh', '200');
    await click(page, '#note', '201');
    await click(page, '#logout', '200');
    expect((await context.cookies()).map((c) => c.name)).toEqual([]);
    await click(page, '#note', '401');
    await context.close();
  });
});
