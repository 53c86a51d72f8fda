import assert from "node:assert/strict";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import type { MutatingWebhookConfiguration } from "kubernetes-types/admissionregistration/v1.d.ts";
import type { Secret } from "kubernetes-types/core/v1.d.ts";
import { flush, ManualClock } from "../kube/clock.ts";
import { MUTATING_WEBHOOK_CONFIGURATIONS, SECRETS, VALIDATING_WEBHOOK_CONFIGURATIONS } from "../kube/resources.ts";
import {
  generateCertificateAuthority,
  generateServingCertificate,
  inClusterIdentity,
  type KeyPairPem,
  localIdentity,
} from "./certs.ts";
import {
  type BundleStore,
  CHECK_INTERVAL_MS,
  DirectoryCertificates,
  injectingPublisher,
  memoryBundleStore,
  registeringPublisher,
  secretBundleStore,
  SelfManagedCertificates,
} from "./cert_manager.ts";
import { buildWebhookConfigurations } from "./configurations.ts";
import { FakeClient } from "./_fake_client.ts";

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const NS = "lws-system";
const SECRET = "lws-webhook-server-cert";
const identity = inClusterIdentity("lws-webhook-service", NS);

function cluster(): FakeClient {
  const client = new FakeClient();
  client.put<Secret>(SECRETS, { metadata: { name: SECRET, namespace: NS }, data: { other: btoa("kept") } });
  const { mutating, validating } = buildWebhookConfigurations({
    target: { service: { namespace: NS, name: "lws-webhook-service" } },
  });
  client.put(MUTATING_WEBHOOK_CONFIGURATIONS, mutating);
  client.put(VALIDATING_WEBHOOK_CONFIGURATIONS, validating);
  return client;
}

function secretData(client: FakeClient): Record<string, string> {
  const data = client.peek<Secret>(SECRETS, SECRET, NS)!.data!;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, atob(v)]));
}

function caBundles(client: FakeClient): (string | undefined)[] {
  return [MUTATING_WEBHOOK_CONFIGURATIONS, VALIDATING_WEBHOOK_CONFIGURATIONS].flatMap((type) =>
    client.peek<MutatingWebhookConfiguration>(
      type,
      type === MUTATING_WEBHOOK_CONFIGURATIONS
        ? "lws-mutating-webhook-configuration"
        : "lws-validating-webhook-configuration",
    )!.webhooks!.map((w) => w.clientConfig.caBundle)
  );
}

function countCertificates(caBundle: string): number {
  return atob(caBundle).split("-----BEGIN CERTIFICATE-----").length - 1;
}

function manager(client: FakeClient, clock: ManualClock, extra: { store?: BundleStore } = {}) {
  const events: string[] = [];
  const certs = new SelfManagedCertificates({
    store: extra.store ?? secretBundleStore(client, { namespace: NS, name: SECRET }),
    publisher: injectingPublisher(client),
    identity,
    clock,
    onPublish: (bundle) => events.push(`publish ${countCertificates(bundle)}`),
  });
  certs.onChange(() => events.push("serve"));
  return { certs, events };
}

/** Lets the loop run until `condition` holds (only promise reactions and real key generation take time). */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (!condition() && performance.now() < deadline) await flush();
  assert.ok(condition(), `timed out waiting for ${what}`);
}

Deno.test("SelfManagedCertificates fills the Secret, serves its pair and injects the CA (spec §11.5)", async () => {
  const client = cluster();
  const clock = new ManualClock(T0);
  const { certs, events } = manager(client, clock);
  const first = await certs.waitReady(AbortSignal.timeout(60_000));
  const data = secretData(client);
  assert.equal(data["tls.crt"], first.cert);
  assert.equal(data["tls.key"], first.key);
  assert.match(data["ca.key"]!, /^-----BEGIN RSA PRIVATE KEY-----/);
  assert.equal(new X509Certificate(data["ca.crt"]!).subject, "CN=lws-ca\nO=lws");
  assert.equal(data.other, "kept");
  assert.deepEqual(caBundles(client), [undefined, undefined, undefined, undefined]); // nothing published yet
  assert.deepEqual(events, ["serve"]);

  await certs.sync({ publish: true });
  const expected = btoa(data["ca.crt"]!);
  assert.deepEqual(caBundles(client), [expected, expected, expected, expected]);
  assert.equal(certs.caBundle(), expected);

  // A second replica adopts the same pair without writing.
  const updatesBefore = client.calls.update ?? 0;
  const replica = manager(client, clock);
  const adopted = await replica.certs.waitReady(AbortSignal.timeout(60_000));
  await replica.certs.sync({ publish: true });
  assert.deepEqual(adopted, first);
  assert.equal(client.calls.update, updatesBefore);
});

Deno.test("SelfManagedCertificates: concurrent first writers converge on one bundle", async () => {
  const client = cluster();
  const clock = new ManualClock(T0);
  const a = manager(client, clock);
  const b = manager(client, clock);
  const results = await Promise.allSettled([a.certs.sync({ publish: false }), b.certs.sync({ publish: false })]);
  const rejected = results.filter((r) => r.status === "rejected");
  assert.equal(rejected.length, 1);
  assert.match(String((rejected[0] as PromiseRejectedResult).reason), /Conflict|modified/);
  await Promise.all([a.certs.sync({ publish: false }), b.certs.sync({ publish: false })]);
  assert.deepEqual(a.certs.current(), b.certs.current());
  assert.equal(a.certs.current()!.cert, secretData(client)["tls.crt"]);
});

Deno.test("SelfManagedCertificates checks every 12 hours and on trigger, and rotates without gaps", async () => {
  const client = cluster();
  const clock = new ManualClock(T0);
  let loads = 0;
  const store = secretBundleStore(client, { namespace: NS, name: SECRET });
  const { certs, events } = manager(client, clock, {
    store: { load: (s) => (loads++, store.load(s)), save: (b, v, s) => store.save(b, v, s) },
  });
  const controller = new AbortController();
  await certs.waitReady(controller.signal);
  const running = certs.run(controller.signal);
  try {
    await clock.waitForTimers(1);
    assert.equal(loads, 2);
    assert.deepEqual(clock.pendingDelays(), [CHECK_INTERVAL_MS]);
    await clock.advance(CHECK_INTERVAL_MS);
    await until(() => loads === 3, "the 12-hour check");
    certs.trigger();
    await until(() => loads === 4, "the triggered check");

    // Serving rotation: same CA, new serving pair, nothing to publish.
    const before = certs.current()!;
    const ca = secretData(client)["ca.crt"];
    certs.rotate("serving");
    await until(() => certs.current() !== before, "serving rotation");
    assert.equal(secretData(client)["ca.crt"], ca);
    assert.equal(secretData(client)["tls.crt"], certs.current()!.cert);
    assert.deepEqual(events, ["serve", "publish 1", "serve"]);

    // CA rotation: both CAs are published first; the new pair is served only after the propagation delay.
    const servingBefore = certs.current()!;
    certs.rotate("all");
    await until(() => events.length === 4, "the combined CA bundle");
    assert.deepEqual(events.slice(3), ["publish 2"]);
    assert.equal(certs.current(), servingBefore);
    assert.equal(countCertificates(caBundles(client)[0]!), 2);
    await clock.waitForTimers(1);
    assert.deepEqual(clock.pendingDelays(), [5000]);
    await clock.advance(5000);
    await until(() => events.length === 5, "the new serving pair");
    assert.equal(events[4], "serve");
    assert.notEqual(secretData(client)["ca.crt"], ca);
    assert.ok(
      new X509Certificate(certs.current()!.cert).verify(new X509Certificate(secretData(client)["ca.crt"]!).publicKey),
    );

    // The old CA leaves the bundle after the overlap.
    await clock.advance(3600_000);
    certs.trigger();
    await until(() => events.length === 6, "the single-CA bundle");
    assert.equal(events[5], "publish 1");
    assert.equal(atob(caBundles(client)[0]!), secretData(client)["ca.crt"]);
  } finally {
    controller.abort();
    await running;
  }
});

Deno.test("SelfManagedCertificates backs off when the API fails, and explains a missing Secret", async () => {
  const client = new FakeClient();
  const clock = new ManualClock(T0);
  const { certs } = manager(client, clock);
  await assert.rejects(certs.sync({ publish: false }), /Secret lws-system\/lws-webhook-server-cert does not exist/);
  const controller = new AbortController();
  const ready = certs.waitReady(controller.signal);
  await clock.waitForTimers(1);
  assert.equal(clock.pendingDelays().length, 1);
  assert.ok(clock.pendingDelays()[0]! >= 500 && clock.pendingDelays()[0]! <= 1500);
  client.put<Secret>(SECRETS, { metadata: { name: SECRET, namespace: NS } });
  await clock.advance(2000);
  const pair = await ready;
  assert.equal(pair.cert, secretData(client)["tls.crt"]);
});

Deno.test("SelfManagedCertificates in local mode registers URL webhooks with its CA", async () => {
  const client = new FakeClient();
  const certs = new SelfManagedCertificates({
    store: memoryBundleStore(),
    publisher: registeringPublisher(client, { target: { url: "https://127.0.0.1:9443" } }),
    identity: localIdentity(),
    clock: new ManualClock(T0),
  });
  const pair = await certs.waitReady(AbortSignal.timeout(60_000));
  assert.equal(new X509Certificate(pair.cert).subjectAltName, "DNS:localhost, IP Address:127.0.0.1");
  assert.equal(client.peek(MUTATING_WEBHOOK_CONFIGURATIONS, "lws-mutating-webhook-configuration"), undefined);
  await certs.sync({ publish: true });
  const mutating = client.peek<MutatingWebhookConfiguration>(
    MUTATING_WEBHOOK_CONFIGURATIONS,
    "lws-mutating-webhook-configuration",
  )!;
  assert.equal(
    mutating.webhooks![0]!.clientConfig.url,
    "https://127.0.0.1:9443/mutate-leaderworkerset-x-k8s-io-v1-leaderworkerset",
  );
  assert.equal(mutating.webhooks![0]!.clientConfig.caBundle, certs.caBundle());
});

Deno.test("DirectoryCertificates loads tls.crt/tls.key, reloads on change and ignores broken files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ca = await generateCertificateAuthority(T0);
    const [one, two] = await Promise.all([
      generateServingCertificate(ca, localIdentity(), T0),
      generateServingCertificate(ca, localIdentity(), T0),
    ]);
    const write = async (pair: KeyPairPem) => {
      await Deno.writeTextFile(join(dir, "tls.crt"), pair.cert);
      await Deno.writeTextFile(join(dir, "tls.key"), pair.key);
    };
    const clock = new ManualClock(T0);
    const certs = new DirectoryCertificates({ certDir: dir, clock, watch: false, pollIntervalMs: 1000 });
    const seen: KeyPairPem[] = [];
    certs.onChange((pair) => seen.push(pair));
    assert.equal(await certs.reload(), false);

    const controller = new AbortController();
    const ready = certs.waitReady(controller.signal);
    await clock.waitForTimers(1);
    await write(one);
    await clock.advance(2000);
    assert.deepEqual(await ready, one);

    const running = certs.run(controller.signal);
    await clock.waitForTimers(1);
    await Deno.writeTextFile(join(dir, "tls.crt"), "garbage");
    await clock.advance(1000);
    await until(() => clock.pendingDelays().length === 1, "the next poll");
    assert.deepEqual(certs.current(), one);
    await write(two);
    await clock.advance(1000);
    await until(() => seen.length === 2, "the reload");
    assert.deepEqual(seen, [one, two]);
    controller.abort();
    await running;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
