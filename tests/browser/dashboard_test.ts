/**
 * The dashboard in a real browser, served from in-memory fixture data (no cluster needed): overview, search,
 * detail grid, keyboard navigation, pod drawer, live update over SSE, a pod failure that outlives its pod (light and
 * dark), paging of 1,000 groups, dark mode and the disconnected state. Screenshots go to tests/out/.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { realClock } from "../../kube/clock.ts";
import { serveDashboard } from "../../ui/app.ts";
import { demoWorlds, FIXTURE_NOW, kwokFailedPod, podFixture } from "../../ui/fixtures.ts";
import { MemoryDashboardSource } from "../../ui/memory_source.ts";
import { launchBrowser, pageProblems, screenshot } from "./browser.ts";

/** Time starts at the fixtures' "now" and runs at real speed (SSE timers need real time). */
function fixtureClock() {
  const start = Date.now();
  return { ...realClock, now: () => FIXTURE_NOW + (Date.now() - start) };
}

async function focusedPod(page: Page): Promise<string | undefined> {
  return await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.pod);
}

Deno.test({
  name: "dashboard pages work in chromium: overview, detail, keyboard, drawer, live updates, paging, dark mode",
  // playwright-core keeps pipes and timers of its own between steps; the test closes the browser in `finally`.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const clock = fixtureClock();
    const source = new MemoryDashboardSource({ failures: { now: clock.now } });
    for (const world of demoWorlds({ big: true })) source.load(world);
    const controller = new AbortController();
    const server = serveDashboard(source, {
      port: 0,
      signal: controller.signal,
      clock,
      heartbeatMs: 1000,
    });
    const browser = await launchBrowser({ viewport: { width: 1440, height: 900 } });
    try {
      const page = await browser.newPage();
      const problems = pageProblems(page);
      const external: string[] = [];
      page.on("request", (r) => {
        if (!r.url().startsWith(server.url) && !r.url().startsWith("data:")) external.push(r.url());
      });

      await t.step("overview lists every LWS and goes live", async () => {
        await page.goto(`${server.url}/`);
        // The first page of a fresh chromium: slow when the suite runs other browsers and a control plane beside it.
        await page.getByText("Live", { exact: true }).waitFor({ timeout: 20_000 });
        const body = await page.textContent("main");
        for (const name of ["llama-70b", "mixtral-serving", "trainer-gpt", "embedder", "fleet-1k"]) {
          assert.ok(body?.includes(name), name);
        }
        assert.ok(body?.includes("2 groups restarting"));
        assert.ok(body?.includes("1 group failed"));
        await screenshot(page, "overview-light");
      });

      await t.step("search filters as you type and updates the URL", async () => {
        await page.fill('input[name="q"]', "mix");
        await page.waitForFunction(() => document.querySelectorAll("table.overview tbody tr").length === 1);
        assert.match(page.url(), /\?q=mix$/);
        await page.fill('input[name="q"]', "");
        await page.selectOption('select[name="ns"]', "training");
        await page.waitForFunction(() =>
          document.querySelector("table.overview tbody")?.textContent?.includes("trainer-gpt") &&
          document.querySelectorAll("table.overview tbody tr").length === 1
        );
      });

      await t.step("detail page shows the group grid with partition, rolling front and surge", async () => {
        await page.goto(`${server.url}/lws/inference/mixtral-serving`);
        await page.getByText("Live", { exact: true }).waitFor();
        const main = await page.textContent("main");
        for (
          const text of [
            "Partition 1: groups below keep their revision",
            "Rolling update: groups from 3 are being updated",
            "Surge: groups from 6 are temporary",
            "CrashLoopBackOff",
            "subgroup 1",
            "Rolling Upgrade is in progress",
          ]
        ) assert.ok(main?.includes(text), text);
        await screenshot(page, "detail-light", true);
      });

      await t.step("arrow keys move between pods, Enter opens the drawer, Escape closes it", async () => {
        await page.focus('a[data-pod="mixtral-serving-0"]');
        await page.keyboard.press("ArrowRight");
        assert.equal(await focusedPod(page), "mixtral-serving-0-1");
        await page.keyboard.press("ArrowDown");
        assert.equal(await focusedPod(page), "mixtral-serving-1-1");
        await page.keyboard.press("End");
        assert.equal(await focusedPod(page), "mixtral-serving-1-3");
        await page.keyboard.press("Enter");
        await page.locator(".drawer").getByText("worker 3 of group 1").waitFor();
        assert.match(page.url(), /\?pod=mixtral-serving-1-3$/);
        await page.keyboard.press("Escape");
        await page.locator(".drawer").waitFor({ state: "detached" });
        assert.equal(await focusedPod(page), "mixtral-serving-1-3");
      });

      await t.step("the drawer shows a crash-looping pod with Secret env as a reference", async () => {
        await page.click('a[data-pod="mixtral-serving-4-2"]');
        const drawer = page.locator(".drawer");
        await drawer.getByText("secretKeyRef hf-credentials/token").waitFor();
        const text = await drawer.textContent();
        assert.ok(text?.includes("from Secret"));
        assert.ok(text?.includes("LWS_LEADER_ADDRESS"));
        assert.ok(text?.includes("Waiting: CrashLoopBackOff"));
        await screenshot(page, "drawer-light");
        await drawer.getByRole("link", { name: /Close/ }).click();
        await drawer.waitFor({ state: "detached" });
      });

      await t.step("a pod change reaches the grid over SSE", async () => {
        const pod = podFixture({
          lwsName: "mixtral-serving",
          namespace: "inference",
          group: 5,
          worker: 1,
          size: 4,
          revision: "5b9c7d4f6b",
          state: "failed",
          subGroupSize: 2,
        });
        source.apply({ kind: "Pod", object: pod });
        await page.locator('a[data-pod="mixtral-serving-5-1"]').getByText("Failed: Evicted").waitFor({ timeout: 5000 });
        await page.locator("#group-5").getByText("1 pod failed").waitFor();
      });

      await t.step("a failed pod stays on its cell, its row, the list and the badge after it is replaced", async () => {
        await page.goto(`${server.url}/lws/inference/llama-70b`);
        await page.getByText("Live", { exact: true }).waitFor();
        const pod = podFixture({
          lwsName: "llama-70b",
          namespace: "inference",
          group: 1,
          worker: 2,
          size: 4,
          revision: "5b9c7d4f6b",
        });
        const failed = kwokFailedPod(pod, clock.now());
        source.apply({ kind: "Pod", object: failed });
        source.remove({ kind: "Pod", object: failed });
        source.apply({ kind: "Pod", object: { ...pod, metadata: { ...pod.metadata, uid: "replacement" } } });
        const row = page.locator("#group-1 .group-failure");
        await row.getByText(/^W2 failed \d+s ago: Error, exit 1 — pod replaced$/).waitFor({
          timeout: 10_000,
        });
        const cell = page.locator('a[data-pod="llama-70b-1-2"]');
        assert.match(await cell.locator(".cell-failure").textContent() ?? "", /failed \d+s ago/);
        assert.equal(await cell.locator(".cell-label").textContent(), "Ready", "the cell shows the live pod");
        await page.locator("table.failures").getByText("pod replaced").waitFor();
        assert.ok((await page.locator(".summary").textContent())?.includes("1 group failed recently"));
        // Keyboard: the failure is part of the cell's accessible name.
        await page.focus('a[data-pod="llama-70b-1-1"]');
        await page.keyboard.press("ArrowRight");
        assert.equal(await focusedPod(page), "llama-70b-1-2");
        const name = await page.evaluate(() => document.activeElement?.getAttribute("aria-label"));
        assert.match(name ?? "", /worker 2, Ready, .*failed \d+s ago: Error, exit 1 — pod replaced$/);
        await screenshot(page, "detail-failure-light", true);
        // Readable in both schemes: the failure texts take the scheme's error colour.
        for (const [scheme, colour] of [["light", "rgb(192, 38, 45)"], ["dark", "rgb(255, 107, 100)"]] as const) {
          await page.emulateMedia({ colorScheme: scheme });
          for (const selector of ["#group-1 .group-failure", 'a[data-pod="llama-70b-1-2"] .cell-failure']) {
            const color = await page.locator(selector).evaluate((e) => getComputedStyle(e).color);
            assert.equal(color, colour, `${selector} in ${scheme} mode`);
          }
        }
        await screenshot(page, "detail-failure-dark", true);
        await page.emulateMedia({ colorScheme: "light" });
        await page.goto(`${server.url}/?ns=inference`);
        await page.locator("table.overview").getByText("1 group failed recently").waitFor();
      });

      await t.step("1,000 groups are paged; Page Down moves to the next page", async () => {
        await page.goto(`${server.url}/lws/scale/fleet-1k`);
        await page.getByText("Page 1 of 20").waitFor();
        assert.equal(await page.locator("a.cell").count(), 400);
        await page.focus('a[data-pod="fleet-1k-0"]');
        await page.keyboard.press("PageDown");
        await page.getByText("Page 2 of 20").waitFor();
        assert.match(page.url(), /\?page=2$/);
        assert.equal(await focusedPod(page), "fleet-1k-50");
        await page.fill('input[name="group"]', "777");
        await page.press('input[name="group"]', "Enter");
        await page.getByText("Page 16 of 20").waitFor();
        assert.equal(await focusedPod(page), "fleet-1k-777");
        await screenshot(page, "detail-1000-groups");
      });

      await t.step("dark mode", async () => {
        await page.emulateMedia({ colorScheme: "dark" });
        await page.goto(`${server.url}/lws/inference/mixtral-serving?pod=mixtral-serving-4-2`);
        await page.locator(".drawer").waitFor();
        const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
        assert.equal(background, "rgb(14, 17, 22)");
        await screenshot(page, "drawer-dark");
        await page.goto(`${server.url}/`);
        await screenshot(page, "overview-dark");
        await page.emulateMedia({ colorScheme: "light" });
      });

      await t.step("a dropped connection is shown, then stale data is flagged", async () => {
        await page.goto(`${server.url}/lws/inference/llama-70b`);
        await page.getByText("Live", { exact: true }).waitFor();
        controller.abort();
        await server.finished;
        await page.getByText(/Reconnecting…|Disconnected/).waitFor({ timeout: 5000 });
        await page.getByText("Disconnected").waitFor({ timeout: 15_000 });
        assert.equal(await page.evaluate(() => document.documentElement.dataset.live), "stale");
        await screenshot(page, "disconnected");
      });

      assert.deepEqual(external, [], "no request leaves the dashboard's origin");
      assert.deepEqual(
        problems.filter((p) => !/Failed to load resource|ERR_CONNECTION_REFUSED|EventSource/.test(p)),
        [],
        "no console errors (CSP violations included)",
      );
    } finally {
      await browser.close();
      if (!controller.signal.aborted) {
        controller.abort();
        await server.finished;
      }
    }
  },
});
