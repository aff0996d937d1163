/**
 * The built site in a real browser: headless Chromium (Debian's `/usr/bin/chromium`,
 * driven by playwright-core) opens the pages from disk through `file://`, the way a
 * reader opens a downloaded copy, at a desktop width (1280 px) and a phone width (390 px).
 *
 * It checks what only a browser can: the page contents sit beside the text on a wide
 * screen and collapsed above it on a narrow one, with every link landing on a heading;
 * code arrives coloured; the search box finds chapters and API symbols as you type; and
 * nothing but a table or a code block scrolls sideways on a phone. Screenshots are saved
 * to a temporary folder whose path is printed, for a person to look at the design.
 *
 * Without `/usr/bin/chromium` the tests are skipped with a message, except under
 * `CI=true`, where its absence fails the run (CI installs it). The site is built into a
 * temporary folder first; set `CIVICTRUST_SITE_DIR` to a built site to reuse it instead.
 * @module
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSite } from './site.ts';

/** Debian's Chromium, the only browser the test drives. */
const CHROMIUM = '/usr/bin/chromium';

/** The repository root. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Flags for a quiet headless run in a container. */
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** The chapter most checks open: it has tables, `ts` fences, sections and a contents list. */
const FRAMING = 'weeks/week-02-framing/index.html';

/** How long a check waits for the page (loading the search index takes a moment on a busy machine). */
const POLL = { timeout: 20_000, interval: 100 };

const hasChromium = existsSync(CHROMIUM);
const inCi = process.env['CI'] === 'true';
if (!hasChromium && !inCi) {
  process.stderr.write(`docs site in Chromium: skipped, ${CHROMIUM} is absent (apt-get install chromium to run it; under CI=true this fails)\n`);
}

describe.runIf(!hasChromium && inCi)('docs site in Chromium · CI', () => {
  it(`finds ${CHROMIUM}`, () => {
    expect.fail(`${CHROMIUM} is missing, and CI must run the browser test: install Debian's chromium package`);
  });
});

describe.skipIf(!hasChromium)(
  hasChromium ? 'docs site in Chromium' : `docs site in Chromium (skipped: ${CHROMIUM} is absent; apt-get install chromium to run it)`,
  () => {
    let site = '';
    let built = false;
    let shots = '';
    let browser: Browser | undefined;

    beforeAll(async () => {
      shots = mkdtempSync(join(tmpdir(), 'civictrust-site-shots-'));
      const reuse = process.env['CIVICTRUST_SITE_DIR'];
      if (reuse !== undefined && reuse !== '') {
        site = reuse;
      } else {
        site = join(mkdtempSync(join(tmpdir(), 'civictrust-site-')), 'site');
        built = true;
        await buildSite({ root: ROOT, out: site });
      }
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      process.stderr.write(`docs site in Chromium: screenshots in ${shots}\n`);
    }, 420_000);

    afterAll(async () => {
      await browser?.close();
      if (built) rmSync(join(site, '..'), { recursive: true, force: true });
    });

    /** Opens a site page in a fresh page of the given width. */
    async function open(sitePath: string, width: number): Promise<Page> {
      if (browser === undefined) throw new Error('Chromium did not start');
      const page = await browser.newPage({ viewport: { width, height: width > 600 ? 900 : 844 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(pathToFileURL(join(site, sitePath)).href);
      await page.evaluate(() => document.fonts.ready);
      expect(errors, `script errors on ${sitePath}`).toEqual([]);
      return page;
    }

    /** The ids the contents link to that no element of the page carries. */
    async function deadTocLinks(page: Page): Promise<{ count: number; dead: string[] }> {
      return page.$$eval('nav.toc a', (links) => {
        const hrefs = links.map((a) => a.getAttribute('href') ?? '');
        const dead = hrefs.filter((h) => !h.startsWith('#') || document.getElementById(decodeURIComponent(h.slice(1))) === null);
        return { count: hrefs.length, dead };
      });
    }

    it('shows the contents beside a chapter at 1280 px, every link on a heading', async () => {
      const page = await open(FRAMING, 1280);
      const toc = page.locator('nav.toc');
      await expect.poll(() => toc.locator('details').evaluate((d) => (d as HTMLDetailsElement).open), POLL).toBe(true);
      const { count, dead } = await deadTocLinks(page);
      expect(count).toBeGreaterThan(3);
      expect(dead).toEqual([]);
      const tocBox = await toc.boundingBox();
      const textBox = await page.locator('main article').boundingBox();
      expect(tocBox !== null && textBox !== null && tocBox.x >= textBox.x + textBox.width).toBe(true);
      // A contents link scrolls its heading into view.
      const first = page.locator('nav.toc a').nth(1);
      const id = decodeURIComponent(((await first.getAttribute('href')) ?? '').slice(1));
      await first.click();
      await expect.poll(() => page.evaluate((h) => {
        const top = document.getElementById(h)?.getBoundingClientRect().top ?? -1;
        return top >= 0 && top < window.innerHeight / 2;
      }, id), POLL).toBe(true);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: join(shots, 'desktop-1280-week-02.png') });
      await page.close();
    });

    it('colours code at build time: highlight.js spans in a ts fence, plain output in a console fence', async () => {
      const page = await open(FRAMING, 1280);
      const spans = await page.locator('pre code.language-ts .hljs-keyword').count();
      expect(spans).toBeGreaterThan(10);
      const colour = await page.locator('pre code.language-ts .hljs-keyword').first().evaluate((el) => getComputedStyle(el).color);
      const plain = await page.locator('pre code.language-ts').first().evaluate((el) => getComputedStyle(el).color);
      expect(colour).not.toBe(plain);
      await page.close();
      const wal = await open('weeks/week-10-wal/index.html', 1280);
      const prompts = await wal.locator('pre code.language-console .hljs-meta.prompt').count();
      expect(prompts).toBeGreaterThan(0);
      await wal.close();
    });

    it('finds chapters and API symbols as you type, from a page opened from disk', async () => {
      const page = await open(FRAMING, 1280);
      const input = page.locator('#site-search');
      await input.fill('frame');
      const results = page.locator('#site-search-results a');
      await expect.poll(() => results.count(), POLL).toBeGreaterThan(2);
      const hrefs = await results.evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).href));
      expect(hrefs.some((h) => h.includes('/weeks/week-02-framing/index.html'))).toBe(true);
      expect(hrefs.some((h) => /\/api\/(classes|functions|interfaces|modules|variables|types)\/framing\b/.test(h))).toBe(true);
      await page.screenshot({ path: join(shots, 'desktop-1280-search-frame.png') });

      await input.fill('WAL');
      await expect.poll(() => results.evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).href).join(' ')), POLL).toMatch(
        /\/weeks\/week-10-wal\/index\.html/,
      );
      const chapterResult = results.filter({ hasText: 'WAL' }).and(page.locator('a[href*="week-10-wal/index.html"]')).first();
      await chapterResult.click();
      await page.waitForURL(/\/weeks\/week-10-wal\/index\.html/);
      expect(await page.locator('h1').first().textContent()).toMatch(/WAL|Week 10/);
      await page.close();
    });

    it('at 390 px: search and collapsed contents above the text, nothing but tables and code scrolls sideways', async () => {
      const pages = ['index.html', FRAMING, 'weeks/week-10-wal/index.html', 'weeks/week-11-replication/index.html'];
      for (const sitePath of pages) {
        const page = await open(sitePath, 390);
        const overflow = await page.evaluate(() => {
          const width = document.documentElement.clientWidth;
          const wide = [...document.querySelectorAll('body *')].filter((el) => {
            if (el.closest('table, pre, .search-results') !== null) return false;
            const box = el.getBoundingClientRect();
            return box.width > 0 && box.right > width + 1;
          });
          return {
            page: document.documentElement.scrollWidth - width,
            elements: wide.slice(0, 5).map((el) => `${el.tagName.toLowerCase()}.${el.className}: ${el.textContent?.slice(0, 60) ?? ''}`),
          };
        });
        expect(overflow, sitePath).toEqual({ page: 0, elements: [] });
        if (sitePath === FRAMING) {
          const details = page.locator('nav.toc details');
          expect(await details.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
          const searchBox = await page.locator('#site-search').boundingBox();
          const tocBox = await page.locator('nav.toc').boundingBox();
          const textBox = await page.locator('main article').boundingBox();
          expect(searchBox !== null && tocBox !== null && textBox !== null).toBe(true);
          expect(searchBox!.y).toBeLessThan(tocBox!.y);
          expect(tocBox!.y).toBeLessThan(textBox!.y);
          // A table with commands keeps each one on one line and scrolls inside itself.
          const table = await page.evaluate(() => {
            const cell = document.querySelector('main td code');
            const t = cell?.closest('table');
            return {
              whiteSpace: cell === null ? '' : getComputedStyle(cell).whiteSpace,
              overflowX: t === null || t === undefined ? '' : getComputedStyle(t).overflowX,
            };
          });
          expect(table).toEqual({ whiteSpace: 'nowrap', overflowX: 'auto' });
          await page.screenshot({ path: join(shots, 'mobile-390-week-02.png') });
          await page.locator('summary', { hasText: 'On this page' }).click();
          const { count, dead } = await deadTocLinks(page);
          expect(count).toBeGreaterThan(3);
          expect(dead).toEqual([]);
          await page.locator('#site-search').fill('frame');
          await expect.poll(() => page.locator('#site-search-results a').count(), POLL).toBeGreaterThan(0);
          const panel = await page.locator('#site-search-results').boundingBox();
          expect(panel !== null && panel.x >= 0 && panel.x + panel.width <= 390, `results at ${JSON.stringify(panel)}`).toBe(true);
          await page.screenshot({ path: join(shots, 'mobile-390-search.png') });
        }
        await page.close();
      }
    });
  },
);
