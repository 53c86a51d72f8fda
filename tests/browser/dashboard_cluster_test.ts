/**
 * The dashboard of the running product in a real browser: `lws run` as a subprocess (the `lws` task's exact
 * command) against the real local control plane, headless chromium on its dashboard. Needs the cluster of
 * `deno task cluster:up`: without one, `clusterTest` throws (these tests never pass by skipping).
 *
 * - a newly applied LeaderWorkerSet appears in the overview within 2 s of `kubectl apply`;
 * - a pod failed through KWOK shows on its cell and group row with the warning badge, and keeps showing after the
 *   StatefulSet replaced it (restartPolicy None) — the dashboard's failure record outlives the ~1 s Failed state —
 *   and with RecreateGroupOnPodRestart the group is visibly recreated and the event and the record say why;
 * - a rolling update (new worker template, maxUnavailable 1) moves groups from the old to the new revision and the
 *   rolling-update front line moves, over SSE, without a reload.
 *
 * Every distinct state a page renders is recorded inside the page (`page_state.ts`), so transient states count.
 * Screenshots of each page go to tests/out/cluster-*.png; the detail page during the rollout also becomes
 * docs/screenshots/detail-rollout.png (the README's picture).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import type { LeaderWorkerSet } from "../../api/types.ts";
import { clusterTest, FAIL_POD_LABEL, type TestCluster } from "../cluster/harness.ts";
import { installCrd, lwsManifest } from "../integration/support/product.ts";
import { ProductProcess } from "../integration/support/product_process.ts";
import { launchBrowser, pageProblems, screenshot } from "./browser.ts";
import {
  type CellSnapshot,
  describe,
  type PageSnapshot,
  readPage,
  recording,
  startRecording,
  waitForSnapshot,
} from "./page_state.ts";

/**
 * The README's screenshot of the detail page during a rollout: written only when `LWS_UPDATE_SCREENSHOTS=1` (a test
 * run leaves tracked files alone); tests/out/cluster-detail-rollout.png is the same picture, every run.
 */
const README_SCREENSHOT = new URL("../../docs/screenshots/detail-rollout.png", import.meta.url).pathname;
/** Width of the README screenshot (and of the browser window). */
const WIDTH = 1200;

async function apply(cluster: TestCluster, namespace: string, lws: LeaderWorkerSet): Promise<void> {
  await cluster.kubectlOk(["apply", "-f", "-"], { namespace, stdin: JSON.stringify(lws) });
}

/**
 * Labels a Running pod for the lws-pod-fail KWOK stage (Failed 1–2 s later) and returns its UID. Unlike
 * `cluster.failPod`, it does not `kubectl wait` for phase Failed: the pod is replaced within about a second of
 * failing (with its whole group under RecreateGroupOnPodRestart), and on a loaded machine that wait starts too late
 * and sees the replacement or nothing. The dashboard's failure record is what the test asserts instead.
 */
async function failThroughKwok(cluster: TestCluster, namespace: string, pod: string): Promise<string> {
  const uid = await cluster.kubectlOk(["get", "pod", pod, "-o", "jsonpath={.metadata.uid}"], { namespace });
  await cluster.kubectlOk(["label", "pod", pod, `${FAIL_POD_LABEL}=true`, "--overwrite"], { namespace });
  return uid.trim();
}

function cell(s: PageSnapshot, pod: string): CellSnapshot | undefined {
  return s.groups.flatMap((g) => g.cells).find((c) => c.pod === pod);
}

/** The detail page shows every group Ready on the update revision and the LWS Available. */
function allReady(s: PageSnapshot, groups: number): boolean {
  return s.connection === "Live" && s.pills[0] === "Available" &&
    s.groups.length === groups &&
    s.groups.every((g) => g.label === "Ready" && g.revision === "new" && g.cells.every((c) => c.state === "ready"));
}

/** The states a pod's cell went through, in order, without repeats. */
function cellHistory(record: readonly PageSnapshot[], pod: string): string[] {
  const out: string[] = [];
  for (const s of record) {
    const c = cell(s, pod);
    const state = c ? `${c.state} (${c.label})` : "absent";
    if (out[out.length - 1] !== state) out.push(state);
  }
  return out;
}

function distinct<T>(values: Iterable<T>): T[] {
  return [...new Set(values)];
}

/** The group index the rolling-update line names (`Rolling update: groups from 2 are being updated; …`). */
function rollingFront(s: PageSnapshot): number | undefined {
  for (const d of s.dividers) {
    const m = /^Rolling update: groups from (\d+)/.exec(d);
    if (m) return Number(m[1]);
  }
  return undefined;
}

function count(s: PageSnapshot, revision: string): number {
  return s.groups.filter((g) => g.revision === revision).length;
}

async function openDetail(page: Page, url: string, namespace: string, name: string): Promise<void> {
  await page.goto(`${url}/lws/${namespace}/${name}`);
  await page.getByText("Live", { exact: true }).waitFor({ timeout: 10_000 });
  await startRecording(page);
}

clusterTest(
  "the running product's dashboard in chromium: new LWS, failed pods, recreated group, rolling update over SSE",
  async ({ t, cluster, namespace }) => {
    const began = Date.now();
    await installCrd(cluster);
    await using product = await ProductProcess.start(cluster, { namespace });
    const url = product.url("dashboard");
    const browser = await launchBrowser({ viewport: { width: WIDTH, height: 900 } });
    const timings: string[] = [];
    try {
      const page = await browser.newPage();
      const problems = pageProblems(page);

      await t.step("the overview shows a newly applied LWS within 2 s of kubectl apply", async () => {
        await page.goto(`${url}/`);
        await page.getByText("Live", { exact: true }).waitFor({ timeout: 10_000 });
        await page.getByText("No LeaderWorkerSets in this scope.").waitFor();
        await startRecording(page);
        const key = `${namespace}/appear`;
        const started = Date.now();
        await apply(cluster, namespace, lwsManifest("appear", { replicas: 2, size: 2 }));
        const applied = Date.now();
        const seen = await waitForSnapshot(page, `${key} in the overview`, (s) => key in s.rows, { timeoutMs: 10_000 });
        timings.push(
          `overview shows the new LWS ${seen.at - applied} ms after kubectl apply returned ` +
            `(${seen.at - started} ms after it was started)`,
        );
        assert.ok(seen.at - applied <= 2_000, `shown ${seen.at - applied} ms after kubectl apply`);
        // The same row follows the LWS until it is Available, without a reload.
        const available = await waitForSnapshot(
          page,
          `${key} Available with 2/2 groups ready`,
          (s) => s.rows[key]?.[1] === "Available" && s.rows[key]?.[2] === "2/2",
        );
        timings.push(`overview shows it Available ${available.at - applied} ms after kubectl apply returned`);
        const history = (await recording(page)).map((s) => s.rows[key]).filter((r) => r !== undefined);
        const attention = distinct(history.map((r) => r[8]));
        assert.deepEqual(attention, ["—"], `a new LWS raised no warning on its way up: ${attention.join(", ")}`);
        await screenshot(page, "cluster-overview-new-lws");
      });

      // A Failed pod is replaced by its StatefulSet within about a second, too fast for a page (or an operator) to
      // count on seeing it. The dashboard records the failure from the cache's change stream and keeps it on the
      // cell, the group row, the badge and the failures list, so the page is asserted on that lasting trace.
      await t.step(
        "a failed pod (restartPolicy None) shows on its cell, its group and the warning badge, and stays",
        async () => {
          const lws = "fail-none";
          await apply(
            cluster,
            namespace,
            lwsManifest(lws, { replicas: 2, size: 2, spec: { leaderWorkerTemplate: { restartPolicy: "None" } } }),
          );
          await openDetail(page, url, namespace, lws);
          await waitForSnapshot(page, "both groups ready", (s) => allReady(s, 2));
          await screenshot(page, "cluster-detail-ready", true);
          const pod = "fail-none-0-1";
          const since = Date.now();
          const uid = await failThroughKwok(cluster, namespace, pod);
          const failure = /^W1 failed \d+[sm] ago: Error, exit 1( — pod replaced)?$/;
          const shown = await waitForSnapshot(
            page,
            `${pod}'s failure on its cell and group, with the warning badge`,
            (s) =>
              /^failed \d+[sm] ago$/.test(cell(s, pod)?.failure ?? "") && failure.test(s.groups[0]?.failure ?? "") &&
              s.pills.some((p) => /^1 group failed( recently)?$/.test(p)),
            { since, timeoutMs: 60_000 },
          );
          timings.push(
            `failure shown on the cell, the group and the badge ${shown.at - since} ms after the pod was labelled ` +
              `for the lws-pod-fail KWOK stage (which fails it after 1-2 s): ${describe(shown)}`,
          );
          // The StatefulSet deletes the Failed pod and creates it again: the cell is Ready, the failure stays.
          const back = await waitForSnapshot(
            page,
            `${pod} replaced and ready, its failure still shown`,
            (s) =>
              allReady(s, 2) && s.pills.includes("1 group failed recently") &&
              /^failed \d+[sm] ago$/.test(cell(s, pod)?.failure ?? "") &&
              /^W1 failed \d+[sm] ago: Error, exit 1 — pod replaced$/.test(s.groups[0]?.failure ?? ""),
            { since: shown.at, timeoutMs: 60_000 },
          );
          const record = (await recording(page)).filter((s) => s.at >= since);
          const caught = record.some((s) => cell(s, pod)?.state === "failed") ? "caught" : "not caught";
          timings.push(
            `${pod}: ${cellHistory(record, pod).join(" → ")}; ready with its failure shown ${back.at - since} ms ` +
              `after the pod was labelled (the ~1 s Failed state itself was ${caught} live)`,
          );
          // Only the failing group was flagged.
          assert.ok(record.every((s) => (s.groups[1]?.label ?? "Ready") === "Ready"), "group 1 stayed Ready");
          assert.ok(record.every((s) => (s.groups[1]?.failure ?? "") === ""), "group 1 has no failure");
          assert.ok(record.every((s) => s.groups[0]?.cells[0]?.failure === ""), "the leader has no failure");
          // The failures list below the grid says the same, and the JSON API has it.
          const row = page.locator("table.failures tbody tr");
          await row.first().waitFor();
          assert.equal(await row.count(), 1, "one failure listed");
          const listed = (await row.first().textContent() ?? "").replace(/\s+/g, " ");
          for (const part of ["#0", pod, "failed", "Error", "1", "pod replaced"]) {
            assert.ok(listed.includes(part), `the failures list shows ${part}: ${listed}`);
          }
          const api: { failures: Record<string, unknown>[] } =
            await (await fetch(`${url}/api/lws/${namespace}/${lws}/failures`)).json();
          const fields = api.failures.map((f) => [f.group, f.worker, f.kind, f.reason, f.exitCode, f.outcome]);
          assert.deepEqual(fields, [[0, 1, "failed", "Error", 1, "pod replaced"]]);
          // The API server agrees: the pod of that name is a new one, the labelled one is gone.
          const current = await cluster.kubectlOk(["get", "pod", pod, "-o", "jsonpath={.metadata.uid}"], { namespace });
          assert.notEqual(current.trim(), uid, `${pod} was replaced`);
          await screenshot(page, "cluster-detail-failed", true);
        },
      );

      await t.step("a failed worker (RecreateGroupOnPodRestart) recreates its group, visibly", async () => {
        await apply(cluster, namespace, lwsManifest("recreate", { replicas: 2, size: 3 }));
        await openDetail(page, url, namespace, "recreate");
        await waitForSnapshot(page, "both groups ready", (s) => allReady(s, 2));
        const pod = "recreate-1-2";
        const since = Date.now();
        await failThroughKwok(cluster, namespace, pod);
        const event =
          "RecreateGroup: Worker pod recreate-1-2 failed, deleted leader pod recreate-1 to recreate group 1";
        const noticed = await waitForSnapshot(
          page,
          "group 1 leaving Ready",
          (s) => s.groups[1] !== undefined && s.groups[1].label !== "Ready",
          { timeoutMs: 60_000, since },
        );
        timings.push(`group 1 shown leaving Ready ${noticed.at - since} ms after the pod was labelled for failure`);
        await waitForSnapshot(page, "the RecreateGroup event", (s) => s.events.includes(event), { since });
        // Back to Ready, and the page still says what happened: the failed pod may have been replaced before a
        // live update could show it (it is Failed for a few hundred ms), the controller's event and the dashboard's
        // failure record stay.
        const back = await waitForSnapshot(
          page,
          "group 1 recreated, ready, flagged as recreated and saying which pod failed",
          (s) =>
            allReady(s, 2) && s.pills.includes("1 group recreated") &&
            (s.groups[1]?.flags.some((f) => /^recreated \d+s ago$/.test(f)) ?? false) &&
            /^W2 failed \d+[sm] ago: Error, exit 1 — group recreated$/.test(s.groups[1]?.failure ?? "") &&
            /^failed \d+[sm] ago$/.test(cell(s, pod)?.failure ?? ""),
          { since: noticed.at },
        );
        const record = (await recording(page)).filter((s) => s.at >= since);
        const leader = cellHistory(record, "recreate-1");
        const worker = cellHistory(record, pod);
        timings.push(`recreate-1: ${leader.join(" → ")}`, `${pod}: ${worker.join(" → ")}`);
        timings.push(`group 1 back to Ready ${back.at - since} ms after the pod was labelled for failure`);
        assert.ok(
          leader.some((s) => /^(terminating|missing|pending)/.test(s)),
          `the leader was shown going away and coming back: ${leader.join(" → ")}`,
        );
        assert.ok(
          worker.some((s) => /^(failed|terminating|missing|pending)/.test(s)),
          `the failed worker was shown failing or being replaced: ${worker.join(" → ")}`,
        );
        const badges = distinct(record.flatMap((s) => s.pills.slice(1)));
        timings.push(`warning badges on the way: ${badges.join(" → ")}`);
        assert.ok(record.every((s) => (s.groups[0]?.label ?? "Ready") === "Ready"), "group 0 stayed Ready");
        assert.ok(record.every((s) => s.groups[0]?.flags.length === 0), "group 0 was not flagged");
        assert.ok(record.every((s) => s.groups[0]?.failure === ""), "group 0 shows no failure");
        await screenshot(page, "cluster-detail-recreated", true);

        await page.click('a[data-pod="recreate-1"]');
        const drawer = page.locator(".drawer");
        await drawer.getByText("leader of group 1").waitFor();
        const text = await drawer.textContent() ?? "";
        assert.ok(text.includes("LWS_LEADER_ADDRESS"), "the webhook's env vars are shown");
        assert.ok(text.includes("recreate-1.recreate"), "the leader address names the shared service");
        // The pod's own events are fetched from the API server when the drawer opens (the scheduler's, here): those
        // of this pod only, not of the leader it replaced.
        const scheduled = drawer.getByText(`Successfully assigned ${namespace}/recreate-1 to`);
        await scheduled.first().waitFor();
        assert.equal(await scheduled.count(), 1, "one Scheduled event: the old leader's is not shown");
        await screenshot(page, "cluster-drawer");
        await page.keyboard.press("Escape");
        await drawer.waitFor({ state: "detached" });
      });

      await t.step("a rolling update moves groups from the old to the new revision over SSE", async () => {
        const replicas = 4;
        const lws = lwsManifest("roll", {
          replicas,
          size: 2,
          spec: { rolloutStrategy: { type: "RollingUpdate", rollingUpdateConfiguration: { maxUnavailable: 1 } } },
        });
        await apply(cluster, namespace, lws);
        await openDetail(page, url, namespace, "roll");
        await waitForSnapshot(page, "every group ready", (s) => allReady(s, replicas));
        // A window as tall as the page down to the grid, so the screenshot below shows every group.
        const gridBottom = await page.locator("table.grid").evaluate((e) => e.getBoundingClientRect().bottom);
        await page.setViewportSize({ width: WIDTH, height: Math.ceil(gridBottom) + 60 });
        await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
        let navigations = 0;
        const onNavigate = () => navigations++;
        page.on("framenavigated", onNavigate);
        const patch = [{
          op: "replace",
          path: "/spec/leaderWorkerTemplate/workerTemplate/spec/containers/0/image",
          value: "nginx:1.28",
        }];
        const since = Date.now();
        await cluster.kubectlOk(["patch", "lws/roll", "--type=json", "-p", JSON.stringify(patch)], { namespace });
        const patched = Date.now();
        const started = await waitForSnapshot(page, "the rollout starting", (s) => count(s, "old") > 0, { since });
        timings.push(`rollout shown starting ${started.at - patched} ms after kubectl patch returned`);

        // While it rolls, take screenshots of the page in the middle of it: kept when the page showed a mixed state
        // before and after the capture (so the picture is one too), preferably one that held still meanwhile.
        const candidates: { png: Uint8Array; s: PageSnapshot; still: boolean }[] = [];
        const mixed = (s: PageSnapshot) => count(s, "old") > 0 && count(s, "new") > 0 && rollingFront(s) !== undefined;
        const deadline = Date.now() + 90_000;
        let done: PageSnapshot | undefined;
        let lastShot = "";
        while (!done && Date.now() < deadline) {
          const s = await readPage(page);
          if (allReady(s, replicas) && s.dividers.length === 0 && s.cards["Updated"]?.startsWith("4/4")) {
            done = s;
            break;
          }
          const { at: _at, ...shown } = s;
          const key = JSON.stringify(shown);
          if (mixed(s) && key !== lastShot) {
            // One screenshot per distinct state: screenshots cost CPU the rollout needs.
            lastShot = key;
            const bottom = await page.locator("table.grid").evaluate((e) => e.getBoundingClientRect().bottom);
            const png = await page.screenshot({ clip: { x: 0, y: 0, width: WIDTH, height: Math.ceil(bottom) + 12 } });
            const after = await readPage(page);
            const { at: _after, ...still } = after;
            if (mixed(after)) candidates.push({ png, s, still: JSON.stringify(still) === key });
          } else await new Promise((resolve) => setTimeout(resolve, 50));
        }
        page.off("framenavigated", onNavigate);
        const rolled = (await recording(page)).filter((s) => s.at >= since);
        assert.ok(done, `the rollout finished on the page; last states:\n${rolled.slice(-5).map(describe).join("\n")}`);
        timings.push(`rollout of ${replicas} groups shown done ${done.at - patched} ms after kubectl patch returned`);

        const newCounts = distinct(rolled.filter(mixed).map((s) => count(s, "new")));
        const fronts = distinct(rolled.map(rollingFront).filter((f) => f !== undefined));
        const updated = distinct(rolled.map((s) => s.cards["Updated"]?.split(" ")[0]));
        const partitions = distinct(rolled.map((s) => s.cards["Partition"]));
        timings.push(
          `rollout seen in ${rolled.length} states: new groups beside old ones ${newCounts.join(" → ")}; ` +
            `rolling-update line at ${fronts.join(" → ")}; Updated ${updated.join(" → ")}; ` +
            `partition card ${partitions.join(" → ")}`,
        );
        assert.ok(newCounts.length >= 2, `groups moved to the new revision step by step: ${newCounts.join(", ")}`);
        assert.ok(fronts.length >= 2, `the rolling-update line moved: ${fronts.join(", ")}`);
        assert.ok(rolled.some((s) => s.pills[0] === "Updating"), "the status said Updating");
        assert.ok(rolled.some((s) => s.groups.some((g) => g.cells.some((c) => c.outdated))), "old pods were marked");
        assert.equal(navigations, 0, "the page was never reloaded");
        assert.equal(
          await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument),
          true,
          "the same document followed the whole rollout",
        );

        assert.ok(candidates.length > 0, "a screenshot of the page during the rollout was taken");
        // The README's picture: one that held still, closest to half-way.
        const score = (c: (typeof candidates)[number]) =>
          (c.still ? 0 : 10) + Math.abs(count(c.s, "new") - replicas / 2);
        const best = candidates.reduce((a, b) => (score(b) < score(a) ? b : a));
        await Deno.writeFile(new URL("../out/cluster-detail-rollout.png", import.meta.url), best.png);
        if (Deno.env.get("LWS_UPDATE_SCREENSHOTS") === "1") await Deno.writeFile(README_SCREENSHOT, best.png);
        timings.push(
          `README screenshot (${candidates.length} taken, ${candidates.filter((c) => c.still).length} held still): ` +
            `${describe(best.s)} (${best.still ? "held still" : "changed while taken"}, ${best.png.length} bytes)`,
        );
        await screenshot(page, "cluster-detail-rolled", true);
      });

      await page.goto(`${url}/`);
      await page.getByText("Live", { exact: true }).waitFor();
      await startRecording(page);
      const overview = await readPage(page);
      assert.equal(overview.rows[`${namespace}/recreate`]?.[8], "1 group recreated", describe(overview));
      // Minutes later, the overview still says that fail-none's group failed.
      assert.equal(overview.rows[`${namespace}/fail-none`]?.[8], "1 group failed recently", describe(overview));
      await screenshot(page, "cluster-overview");
      assert.deepEqual(problems, [], "no console errors (CSP violations included)");
    } finally {
      await browser.close();
      console.log([...timings, `total ${Date.now() - began} ms`].map((l) => `  ${l}`).join("\n"));
    }
  },
  { namespacePrefix: "dashboard" },
);
