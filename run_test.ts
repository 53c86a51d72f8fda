import assert from "node:assert/strict";
import { resolveConfig } from "./config.ts";
import { readBuildInfo } from "./cli/build_info.ts";
import { EXIT_USAGE, localWebhookNames, runProduct } from "./run.ts";

Deno.test("localWebhookNames() keeps upstream's names, suffixed with the watch namespace when scoped", () => {
  assert.deepEqual(localWebhookNames(undefined), {
    mutatingName: "lws-mutating-webhook-configuration",
    validatingName: "lws-validating-webhook-configuration",
  });
  assert.deepEqual(localWebhookNames("team-a"), {
    mutatingName: "lws-mutating-webhook-configuration-team-a",
    validatingName: "lws-validating-webhook-configuration-team-a",
  });
});

Deno.test("runProduct() exits 2 when the kubeconfig cannot be loaded, before starting anything", async () => {
  const config = await resolveConfig({ kubeconfig: "/nonexistent/kubeconfig" }, { env: () => undefined });
  const code = await runProduct(config, { signal: new AbortController().signal, buildInfo: await readBuildInfo() });
  assert.equal(code, EXIT_USAGE);
});
