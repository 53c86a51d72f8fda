/**
 * kube/leader_election.ts with two (then three) separate OS processes competing for one Lease on the real API
 * server, with upstream's timings (lease 15 s, renew deadline 10 s, retry 2 s): exactly one leads; a SIGKILLed
 * leader is replaced after the lease expires; a SIGTERMed leader releases the lease and is replaced at once.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Lease } from "kubernetes-types/coordination/v1.d.ts";
import { clusterTest, eventually } from "../cluster/harness.ts";
import { buildUserAgent, createClient } from "../../kube/client.ts";
import { loadKubeConfig } from "../../kube/kubeconfig.ts";
import { DEFAULT_LEASE_NAME } from "../../kube/leader_election.ts";
import { LEASES } from "../../kube/resources.ts";

const CONTENDER = new URL("./support/contender.ts", import.meta.url).pathname;
const REPO_ROOT = new URL("../..", import.meta.url).pathname;

interface ContenderEvent {
  event: string;
  identity: string;
  at: number;
  holder?: string;
  outcome?: string;
}

/** A contender process; `events` fills as it prints. */
class Contender {
  readonly events: ContenderEvent[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #reading: Promise<void>;
  readonly #stderr: Promise<string>;
  readonly status: Promise<Deno.CommandStatus>;

  constructor(readonly identity: string, kubeconfig: string, namespace: string) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-net",
        "--allow-env",
        "--allow-sys",
        CONTENDER,
        kubeconfig,
        namespace,
        identity,
      ],
      cwd: REPO_ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.status = child.status;
    this.#stderr = new Response(child.stderr).text();
    this.#reading = (async () => {
      let buffer = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line.startsWith("{")) this.events.push({ ...JSON.parse(line), seenAt: Date.now() });
        }
      }
    })();
  }

  has(event: string, holder?: string): ContenderEvent | undefined {
    return this.events.find((e) => e.event === event && (holder === undefined || e.holder === holder));
  }

  leading(): boolean {
    const last = this.events.filter((e) => e.event === "leading" || e.event === "stopped-leading").at(-1);
    return last?.event === "leading";
  }

  kill(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch {
      // Already exited.
    }
  }

  /** Waits for the process and its output; returns the exit status and stderr. */
  async done(): Promise<{ status: Deno.CommandStatus; stderr: string }> {
    const status = await this.status;
    await this.#reading;
    return { status, stderr: await this.#stderr };
  }
}

clusterTest(
  "leader election: one of two processes leads; SIGKILL and SIGTERM hand over",
  async ({ cluster, namespace, t }) => {
    const config = await loadKubeConfig({ path: cluster.kubeconfig });
    const client = createClient(config, { qps: 20, burst: 20, userAgent: buildUserAgent({ version: "v0.1.0-test" }) });
    const contenders: Contender[] = [];
    const spawn = (id: string) => {
      const c = new Contender(id, cluster.kubeconfig, namespace);
      contenders.push(c);
      return c;
    };
    const holder = async () =>
      (await client.get<Lease>(LEASES, DEFAULT_LEASE_NAME, { namespace }).catch(() => undefined))?.spec?.holderIdentity;
    try {
      const a = spawn("contender-a");
      const b = spawn("contender-b");
      let leader!: Contender;
      let follower!: Contender;
      await t.step("exactly one leads", async () => {
        leader = await eventually("a leader", () => Promise.resolve(contenders.find((c) => c.leading())), {
          timeoutMs: 30_000,
        });
        follower = leader === a ? b : a;
        await eventually(
          "the follower sees the leader",
          () => Promise.resolve(follower.has("new-leader", leader.identity)),
        );
        // Watch for a few retry periods: leadership never doubles up.
        const until = Date.now() + 5_000;
        while (Date.now() < until) {
          assert.equal(
            contenders.filter((c) => c.leading()).length,
            1,
          );
          await new Promise((r) => setTimeout(r, 200));
        }
        assert.equal(await holder(), leader.identity);
        assert.equal(follower.has("leading"), undefined);
      });

      await t.step("SIGKILL the leader: the other takes over after the lease expires", async () => {
        const killedAt = Date.now();
        leader.kill("SIGKILL");
        await leader.done();
        const took = await eventually("the follower leads", () => Promise.resolve(follower.has("leading")), {
          timeoutMs: 40_000,
        });
        const takeoverMs = took.at - killedAt;
        console.log(`takeover after SIGKILL: ${takeoverMs} ms`);
        // Not before the lease could have expired (15 s since the last renewal, at most one retry before the kill)...
        assert.ok(takeoverMs >= 15_000 - 2_000 - 500, `took over too early: ${takeoverMs} ms`);
        // ...and within the lease duration plus the follower's observation lag and one jittered retry (2 × 4.4 s).
        assert.ok(takeoverMs <= 15_000 + 2 * 4_400 + 1_000, `took over too late: ${takeoverMs} ms`);
        assert.equal(await holder(), follower.identity);
      });

      await t.step("SIGTERM the leader: it releases and a new contender takes over within seconds", async () => {
        const next = spawn("contender-c");
        await eventually(
          "contender-c sees the leader",
          () => Promise.resolve(next.has("new-leader", follower.identity)),
          {
            timeoutMs: 20_000,
          },
        );
        const termAt = Date.now();
        follower.kill("SIGTERM");
        const { status, stderr } = await follower.done();
        assert.equal(status.code, 0, stderr);
        assert.deepEqual(follower.events.at(-1)?.outcome, "stopped");
        const took = await eventually("contender-c leads", () => Promise.resolve(next.has("leading")), {
          timeoutMs: 15_000,
        });
        const takeoverMs = took.at - termAt;
        console.log(`takeover after SIGTERM: ${takeoverMs} ms`);
        // One jittered retry of the new contender (≤ 4.4 s) after the release, plus process shutdown on a busy machine.
        assert.ok(takeoverMs <= 8_000, `release handover took ${takeoverMs} ms`);
        assert.equal(await holder(), next.identity);
        const lease = await client.get<Lease>(LEASES, DEFAULT_LEASE_NAME, { namespace });
        assert.equal(lease.spec?.leaseTransitions, 2);
        assert.equal(lease.spec?.leaseDurationSeconds, 15);
      });
    } catch (err) {
      // Say what each process printed, so a failure can be diagnosed from the test log alone.
      for (const c of contenders) c.kill("SIGTERM");
      for (const c of contenders) {
        const { status, stderr } = await c.done();
        console.error(`${c.identity} exited ${status.code}: ${JSON.stringify(c.events)}\n${stderr}`);
      }
      throw err;
    } finally {
      for (const c of contenders) c.kill("SIGTERM");
      for (const c of contenders) await c.done();
      client.close();
    }
  },
);
