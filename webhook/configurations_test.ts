import assert from "node:assert/strict";
import type { MutatingWebhookConfiguration } from "kubernetes-types/admissionregistration/v1.d.ts";
import { MUTATING_WEBHOOK_CONFIGURATIONS, VALIDATING_WEBHOOK_CONFIGURATIONS } from "../kube/resources.ts";
import {
  applyWebhookConfigurations,
  buildWebhookConfigurations,
  caBundleOf,
  injectCaBundle,
  removeWebhookConfigurations,
} from "./configurations.ts";
import { FakeClient } from "./_fake_client.ts";

const NAME_EXISTS = { matchExpressions: [{ key: "leaderworkerset.sigs.k8s.io/name", operator: "Exists" }] };

Deno.test("buildWebhookConfigurations() registers the four webhooks exactly like upstream", async (t) => {
  await t.step("in-cluster service target", () => {
    const { mutating, validating } = buildWebhookConfigurations({
      target: { service: { namespace: "lws-system", name: "lws-webhook-service" } },
    });
    const service = (path: string) => ({ service: { namespace: "lws-system", name: "lws-webhook-service", path } });
    const common = { admissionReviewVersions: ["v1"], failurePolicy: "Fail", sideEffects: "None" };
    const lwsRule = (operations: string[]) => [{
      apiGroups: ["leaderworkerset.x-k8s.io"],
      apiVersions: ["v1"],
      operations,
      resources: ["leaderworkersets"],
    }];
    const podRule = (
      operations: string[],
    ) => [{ apiGroups: [""], apiVersions: ["v1"], operations, resources: ["pods"] }];
    assert.deepEqual(mutating, {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: { name: "lws-mutating-webhook-configuration" },
      webhooks: [
        {
          name: "mleaderworkerset.kb.io",
          ...common,
          clientConfig: service("/mutate-leaderworkerset-x-k8s-io-v1-leaderworkerset"),
          rules: lwsRule(["CREATE", "UPDATE"]),
        },
        {
          name: "mpod.kb.io",
          ...common,
          clientConfig: service("/mutate--v1-pod"),
          rules: podRule(["CREATE"]),
          objectSelector: NAME_EXISTS,
        },
      ],
    });
    assert.deepEqual(validating, {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: "lws-validating-webhook-configuration" },
      webhooks: [
        {
          name: "vleaderworkerset.kb.io",
          ...common,
          clientConfig: service("/validate-leaderworkerset-x-k8s-io-v1-leaderworkerset"),
          rules: lwsRule(["CREATE", "UPDATE"]),
        },
        {
          name: "vpod.kb.io",
          ...common,
          clientConfig: service("/validate--v1-pod"),
          rules: podRule(["CREATE", "UPDATE"]),
          objectSelector: NAME_EXISTS,
        },
      ],
    });
  });
  await t.step("local URL target with CA bundle, custom names and a namespace selector", () => {
    const { mutating, validating } = buildWebhookConfigurations({
      target: { url: "https://127.0.0.1:9443/" },
      caBundle: "Q0E=",
      mutatingName: "m-test",
      validatingName: "v-test",
      namespaceSelector: { matchLabels: { team: "a" } },
    });
    assert.equal(mutating.metadata?.name, "m-test");
    assert.equal(validating.metadata?.name, "v-test");
    for (const hook of [...mutating.webhooks!, ...validating.webhooks!]) {
      assert.match(hook.clientConfig.url!, /^https:\/\/127\.0\.0\.1:9443\/(mutate|validate)-/);
      assert.equal(hook.clientConfig.service, undefined);
      assert.equal(hook.clientConfig.caBundle, "Q0E=");
      assert.deepEqual(hook.namespaceSelector, { matchLabels: { team: "a" } });
    }
    assert.equal(mutating.webhooks![1]!.clientConfig.url, "https://127.0.0.1:9443/mutate--v1-pod");
  });
  await t.step("caBundleOf() is base64 of the PEM bytes", () => {
    assert.equal(caBundleOf("-----BEGIN CERTIFICATE-----\n"), btoa("-----BEGIN CERTIFICATE-----\n"));
  });
});

Deno.test("injectCaBundle() updates every webhook's caBundle, once", async () => {
  const client = new FakeClient();
  const { mutating } = buildWebhookConfigurations({ target: { service: { namespace: "ns", name: "svc" } } });
  client.put(MUTATING_WEBHOOK_CONFIGURATIONS, mutating);
  assert.deepEqual(await injectCaBundle(client, "Q0E="), { mutating: "updated", validating: "missing" });
  const stored = client.peek<MutatingWebhookConfiguration>(MUTATING_WEBHOOK_CONFIGURATIONS, mutating.metadata!.name!)!;
  assert.deepEqual(stored.webhooks!.map((w) => w.clientConfig.caBundle), ["Q0E=", "Q0E="]);
  assert.deepEqual(await injectCaBundle(client, "Q0E="), { mutating: "unchanged", validating: "missing" });
  assert.equal(client.calls.update, 1);
});

Deno.test("injectCaBundle() retries a conflicting update", async () => {
  const client = new FakeClient();
  const { mutating, validating } = buildWebhookConfigurations({ target: { url: "https://127.0.0.1:1" } });
  client.put(MUTATING_WEBHOOK_CONFIGURATIONS, mutating);
  client.put(VALIDATING_WEBHOOK_CONFIGURATIONS, validating);
  const original = client.update.bind(client);
  let first = true;
  client.update = (type, object, options) => {
    if (first) {
      first = false;
      const stored = client.peek(type, object.metadata!.name!)!; // someone else writes in between
      client.put(type, { ...stored, metadata: { ...stored.metadata, labels: { touched: "yes" } } });
    }
    return original(type, object, options);
  };
  assert.deepEqual(await injectCaBundle(client, "Q0E="), { mutating: "updated", validating: "updated" });
  assert.equal(client.calls.update, 3);
});

Deno.test("applyWebhookConfigurations() and removeWebhookConfigurations() install and remove both", async () => {
  const client = new FakeClient();
  const configurations = buildWebhookConfigurations({ target: { url: "https://127.0.0.1:1" }, mutatingName: "m" });
  await applyWebhookConfigurations(client, configurations);
  assert.ok(client.peek(MUTATING_WEBHOOK_CONFIGURATIONS, "m"));
  assert.ok(client.peek(VALIDATING_WEBHOOK_CONFIGURATIONS, "lws-validating-webhook-configuration"));
  await removeWebhookConfigurations(client, { mutatingName: "m" });
  assert.equal(client.peek(MUTATING_WEBHOOK_CONFIGURATIONS, "m"), undefined);
  assert.equal(client.peek(VALIDATING_WEBHOOK_CONFIGURATIONS, "lws-validating-webhook-configuration"), undefined);
  await removeWebhookConfigurations(client, { mutatingName: "m" }); // already gone: fine
});
