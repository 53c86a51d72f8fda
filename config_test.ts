import assert from "node:assert/strict";
import {
  applyModeDefaults,
  bindAddressProblem,
  type Config,
  ConfigError,
  decodeConfiguration,
  defaultConfiguration,
  formatDuration,
  parseBindAddress,
  parseDuration,
  resolveConfig,
  type RunFlags,
  validateConfiguration,
} from "./config.ts";

const HEADER = "apiVersion: config.lws.x-k8s.io/v1alpha1\nkind: Configuration\n";

/** resolveConfig() with a config file held in memory and an empty environment. */
function resolve(flags: RunFlags, file?: string, env: Record<string, string> = {}): Promise<Config> {
  return resolveConfig(file === undefined ? flags : { config: "/c.yaml", ...flags }, {
    env: (name) => env[name],
    readTextFile: (
      path,
    ) => (path === "/c.yaml" && file !== undefined ? Promise.resolve(file) : Promise.reject(new Error("No such file"))),
  });
}

async function rejects(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    assert.match(err.message, message);
    return true;
  });
}

Deno.test("defaultConfiguration() applies upstream's defaults (spec §11.2)", () => {
  const config = defaultConfiguration({});
  assert.deepEqual(config, {
    webhook: { port: 9443, host: "", certDir: "/tmp/k8s-webhook-server/serving-certs" },
    leaderElection: {
      leaderElect: true,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      resourceLock: "leases",
      resourceName: "b8b2488c.x-k8s.io",
      resourceNamespace: "",
    },
    metrics: { bindAddress: ":8443" },
    health: { healthProbeBindAddress: ":8081", readinessEndpointName: "/readyz", livenessEndpointName: "/healthz" },
    internalCertManagement: {
      enable: true,
      webhookServiceName: "lws-webhook-service",
      webhookSecretName: "lws-webhook-server-cert",
    },
    clientConnection: { qps: 500, burst: 500 },
  });
  assert.deepEqual(validateConfiguration(config), []);
});

Deno.test("defaultConfiguration() defaults the certificate names only when internal management is enabled", () => {
  const off = defaultConfiguration({ internalCertManagement: { enable: false } });
  assert.deepEqual(off.internalCertManagement, {
    enable: false,
    webhookServiceName: undefined,
    webhookSecretName: undefined,
  });
});

Deno.test("decodeConfiguration() reads upstream's shipped file and every field", () => {
  const shipped = decodeConfiguration(
    HEADER + "leaderElection:\n  leaderElect: true\ninternalCertManagement:\n  enable: true\n",
    "c.yaml",
  );
  assert.deepEqual(shipped, { leaderElection: { leaderElect: true }, internalCertManagement: { enable: true } });
  const full = decodeConfiguration(
    HEADER + `
webhook: {port: 9444, host: 127.0.0.1, certDir: /certs}
leaderElection: {leaderElect: false, leaseDuration: 30s, renewDeadline: 20s, retryPeriod: 5s, resourceLock: leases,
  resourceName: my-lease, resourceNamespace: ops}
metrics: {bindAddress: ":9090"}
health: {healthProbeBindAddress: ":9091", readinessEndpointName: /ready, livenessEndpointName: /live}
internalCertManagement: {enable: true, webhookServiceName: svc, webhookSecretName: secret}
clientConnection: {qps: 50.5, burst: 100}
gangSchedulingManagement: {schedulerProvider: volcano}
tls: {minVersion: VersionTLS12, cipherSuites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]}
pprofBindAddress: ":6060"
controller: {groupKindConcurrency: {LeaderWorkerSet.leaderworkerset.x-k8s.io: 2, Pod: 3}, cacheSyncTimeout: 2m}
`,
    "c.yaml",
  );
  const config = defaultConfiguration(full);
  assert.deepEqual(validateConfiguration(config), []);
  assert.equal(config.webhook.port, 9444);
  assert.equal(config.leaderElection.leaseDurationMs, 30_000);
  assert.equal(config.clientConnection.qps, 50.5);
  assert.deepEqual(config.gangSchedulingManagement, { schedulerProvider: "volcano" });
  assert.deepEqual(config.groupKindConcurrency, { "LeaderWorkerSet.leaderworkerset.x-k8s.io": 2, Pod: 3 });
});

Deno.test("decodeConfiguration() is strict and names the field", async (t) => {
  const cases: [string, string, RegExp][] = [
    ["unknown top-level field", HEADER + "webhooks: {}\n", /strict decoding error: unknown field "webhooks"/],
    ["unknown nested field", HEADER + "webhook:\n  prot: 1\n", /strict decoding error: unknown field "webhook\.prot"/],
    ["duplicate field", HEADER + "metrics: {}\nmetrics: {}\n", /strict decoding error: duplicate field "metrics"/],
    [
      "duplicate nested field",
      HEADER + "webhook:\n  port: 1\n  port: 2\n",
      /strict decoding error: duplicate field "webhook\.port"/,
    ],
    [
      "string for an int",
      HEADER + "webhook: {port: '9443'}\n",
      /cannot unmarshal string into field "webhook\.port" of type int32/,
    ],
    [
      "fraction for an int",
      HEADER + "clientConnection: {burst: 1.5}\n",
      /number 1\.5 into field "clientConnection\.burst"/,
    ],
    [
      "string for a bool",
      HEADER + "leaderElection: {leaderElect: 'yes'}\n",
      /"leaderElection\.leaderElect" of type bool/,
    ],
    ["list for an object", HEADER + "health: []\n", /cannot unmarshal array into field "health" of type object/],
    ["scalar for a list", HEADER + "tls: {cipherSuites: x}\n", /"tls\.cipherSuites" of type \[\]string/],
    ["number in a list", HEADER + "tls: {cipherSuites: [1]}\n", /"tls\.cipherSuites\[0\]" of type string/],
    [
      "bad duration",
      HEADER + "leaderElection: {leaseDuration: 15}\n",
      /"leaderElection\.leaseDuration" of type duration/,
    ],
    ["unparsable duration", HEADER + "leaderElection: {renewDeadline: 10x}\n", /time: invalid duration "10x"/],
    [
      "wrong apiVersion",
      "apiVersion: v1\nkind: Configuration\n",
      /expected apiVersion: config\.lws\.x-k8s\.io\/v1alpha1/,
    ],
    ["wrong kind", "apiVersion: config.lws.x-k8s.io/v1alpha1\nkind: Config\n", /got apiVersion: .* and kind: "Config"/],
    ["empty file", "", /it is empty/],
    ["not YAML", HEADER + "webhook: [\n", /not valid YAML/],
    ["not a map", "- a\n", /cannot unmarshal array into field the document/],
  ];
  for (const [name, text, message] of cases) {
    await t.step(name, () => {
      assert.throws(() => decodeConfiguration(text, "/etc/lws.yaml"), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /^Cannot load config file \/etc\/lws\.yaml: /);
        assert.match(err.message, message);
        return true;
      });
    });
  }
});

Deno.test("decodeConfiguration() treats null as unset", () => {
  assert.deepEqual(decodeConfiguration(HEADER + "webhook:\nmetrics: {bindAddress: null}\n", "c"), { metrics: {} });
});

Deno.test("validateConfiguration() accepts both gang-scheduling providers", () => {
  for (const schedulerProvider of ["volcano", "workload"]) {
    const config = defaultConfiguration({ gangSchedulingManagement: { schedulerProvider } });
    assert.deepEqual(validateConfiguration(config), []);
    assert.deepEqual(config.gangSchedulingManagement, { schedulerProvider });
  }
});

Deno.test("validateConfiguration() reports upstream's messages (spec §11.2)", async (t) => {
  const cases: [string, Parameters<typeof defaultConfiguration>[0], string][] = [
    [
      "gang scheduling without provider",
      { gangSchedulingManagement: {} },
      "gangSchedulingManagement.schedulerProvider: Required value: must be set when gang scheduling is enabled",
    ],
    [
      "unsupported provider",
      { gangSchedulingManagement: { schedulerProvider: "kueue" } },
      'gangSchedulingManagement.schedulerProvider: Unsupported value: "kueue": supported values: "volcano", "workload"',
    ],
    [
      "service name not a DNS-1035 label",
      { internalCertManagement: { webhookServiceName: "1svc" } },
      'internalCertManagement.webhookServiceName: Invalid value: "1svc": a DNS-1035 label must consist of',
    ],
    [
      "secret name not a DNS-1123 subdomain",
      { internalCertManagement: { webhookSecretName: "Bad_Secret" } },
      'internalCertManagement.webhookSecretName: Invalid value: "Bad_Secret": a lowercase RFC 1123 subdomain',
    ],
    [
      "TLS 1.0",
      { tls: { minVersion: "VersionTLS10" } },
      'tls.minVersion: Invalid value: "VersionTLS10": invalid minVersion. Please use VersionTLS12 or VersionTLS13',
    ],
    [
      "TLS 1.1",
      { tls: { minVersion: "VersionTLS11" } },
      "invalid minVersion. Please use VersionTLS12 or VersionTLS13",
    ],
    [
      "unknown cipher suite",
      { tls: { cipherSuites: ["TLS_FAKE"] } },
      'tls.cipherSuites[0]: Invalid value: "TLS_FAKE": unknown cipher suite',
    ],
    [
      "cipher suites with TLS 1.3",
      { tls: { minVersion: "VersionTLS13", cipherSuites: ["TLS_AES_128_GCM_SHA256"] } },
      "cipher suites may not be specified when minVersion is 'VersionTLS13'",
    ],
    [
      "resource lock",
      { leaderElection: { resourceLock: "configmaps" } },
      'leaderElection.resourceLock: Unsupported value: "configmaps": supported values: "leases"',
    ],
    [
      "lease not longer than renew deadline",
      { leaderElection: { leaseDuration: "10s", renewDeadline: "10s" } },
      'leaderElection.leaseDuration: Invalid value: "10s": must be greater than renewDeadline (10s)',
    ],
    [
      "renew deadline too short for the retry period",
      { leaderElection: { renewDeadline: "2s", retryPeriod: "2s" } },
      'leaderElection.renewDeadline: Invalid value: "2s": must be greater than 1.2 × retryPeriod (2s)',
    ],
    ["zero retry period", { leaderElection: { retryPeriod: "0" } }, "leaderElection.retryPeriod: Invalid value"],
    [
      "lease namespace",
      { leaderElection: { resourceNamespace: "Ops" } },
      'leaderElection.resourceNamespace: Invalid value: "Ops"',
    ],
    ["lease name", { leaderElection: { resourceName: "a_b" } }, 'leaderElection.resourceName: Invalid value: "a_b"'],
    ["webhook port", { webhook: { port: 70000 } }, "webhook.port: Invalid value: 70000: must be between 0 and 65535"],
    ["metrics address", { metrics: { bindAddress: "8443" } }, 'metrics.bindAddress: Invalid value: "8443"'],
    [
      "health address",
      { health: { healthProbeBindAddress: "localhost:99999" } },
      'health.healthProbeBindAddress: Invalid value: "localhost:99999": port must be 0-65535',
    ],
    [
      "probe path",
      { health: { readinessEndpointName: "readyz" } },
      'health.readinessEndpointName: Invalid value: "readyz": must start with /',
    ],
    [
      "same probe paths",
      { health: { readinessEndpointName: "/x", livenessEndpointName: "/x" } },
      "must differ from livenessEndpointName",
    ],
    ["negative qps", { clientConnection: { qps: -1 } }, "clientConnection.qps: Invalid value: -1"],
    ["zero burst", { clientConnection: { burst: 0 } }, "clientConnection.burst: Invalid value: 0"],
    [
      "zero concurrency",
      { controller: { groupKindConcurrency: { Pod: 0 } } },
      "controller.groupKindConcurrency.Pod: Invalid value: 0",
    ],
  ];
  for (const [name, input, message] of cases) {
    await t.step(name, () => {
      const errors = validateConfiguration(defaultConfiguration(input));
      assert.ok(errors.some((e) => e.includes(message)), `${JSON.stringify(errors)} lacks ${message}`);
    });
  }
  await t.step("disabled cert management skips the name checks", () => {
    assert.deepEqual(
      validateConfiguration(
        defaultConfiguration({ internalCertManagement: { enable: false, webhookServiceName: "1" } }),
      ),
      [],
    );
  });
  await t.step("leader election off skips the timing checks", () => {
    assert.deepEqual(
      validateConfiguration(
        defaultConfiguration({ leaderElection: { leaderElect: false, leaseDuration: "1s", renewDeadline: "5s" } }),
      ),
      [],
    );
  });
});

Deno.test("parseDuration() reads Go durations; formatDuration() writes them", async (t) => {
  for (
    const [text, ms] of [["15s", 15_000], ["1m30s", 90_000], ["500ms", 500], ["1.5h", 5_400_000], ["0", 0], [
      "2us",
      0.002,
    ]] as const
  ) {
    await t.step(text, () => assert.equal(parseDuration(text), ms));
  }
  for (const bad of ["", "15", "s", "-1s", "1d", "1s2"]) {
    await t.step(`rejects ${JSON.stringify(bad)}`, () => assert.equal(parseDuration(bad), undefined));
  }
  assert.equal(formatDuration(15_000), "15s");
  assert.equal(formatDuration(90_000), "1m30s");
  assert.equal(formatDuration(3_600_000), "1h0m0s");
  assert.equal(formatDuration(250), "250ms");
});

Deno.test("parseBindAddress() reads host:port, :port, [v6]:port and 0", () => {
  assert.deepEqual(parseBindAddress(":8443"), { hostname: "0.0.0.0", port: 8443 });
  assert.deepEqual(parseBindAddress("127.0.0.1:0"), { hostname: "127.0.0.1", port: 0 });
  assert.deepEqual(parseBindAddress("[::1]:8081"), { hostname: "::1", port: 8081 });
  assert.deepEqual(parseBindAddress("localhost:1"), { hostname: "localhost", port: 1 });
  assert.equal(parseBindAddress("0"), "disabled");
  assert.match(bindAddressProblem("8443")!, /host:port/);
  assert.match(bindAddressProblem(":70000")!, /port must be 0-65535, got 70000/);
  assert.throws(() => parseBindAddress("x"), ConfigError);
});

Deno.test("resolveConfig() lets flags override the file only when given", async (t) => {
  const file = HEADER + `
clientConnection: {qps: 20, burst: 30}
leaderElection: {leaderElect: false, leaseDuration: 30s, renewDeadline: 20s, resourceName: from-file}
metrics: {bindAddress: ":9000"}
webhook: {port: 9555}
`;
  await t.step("file values stay when no flag is given", async () => {
    const { configuration: c, explicit } = await resolve({}, file);
    assert.equal(c.clientConnection.qps, 20);
    assert.equal(c.clientConnection.burst, 30);
    assert.equal(c.leaderElection.leaderElect, false);
    assert.equal(c.leaderElection.leaseDurationMs, 30_000);
    assert.equal(c.leaderElection.resourceName, "from-file");
    assert.equal(c.metrics.bindAddress, ":9000");
    assert.equal(c.webhook.port, 9555);
    assert.deepEqual(explicit, { metrics: true, health: false, webhookHost: false });
  });
  await t.step("given flags win", async () => {
    const { configuration: c } = await resolve({
      kubeApiQps: 5,
      kubeApiBurst: 6,
      leaderElect: true,
      leaderElectLeaseDuration: "40s",
      leaderElectRetryPeriod: "3s",
      leaderElectResourceName: "from-flag",
      leaderElectResourceNamespace: "ops",
      metricsBindAddress: "0",
      healthProbeBindAddress: ":1",
      webhookPort: 0,
      webhookHost: "::",
    }, file);
    assert.equal(c.clientConnection.qps, 5);
    assert.equal(c.clientConnection.burst, 6);
    assert.equal(c.leaderElection.leaderElect, true);
    assert.equal(c.leaderElection.leaseDurationMs, 40_000);
    assert.equal(c.leaderElection.renewDeadlineMs, 20_000, "the file's value stays");
    assert.equal(c.leaderElection.retryPeriodMs, 3_000);
    assert.equal(c.leaderElection.resourceName, "from-flag");
    assert.equal(c.leaderElection.resourceNamespace, "ops");
    assert.equal(c.metrics.bindAddress, "0");
    assert.equal(c.health.healthProbeBindAddress, ":1");
    assert.equal(c.webhook.port, 0);
    assert.equal(c.webhook.host, "::");
  });
  await t.step("without a file, defaults", async () => {
    const config = await resolve({});
    assert.deepEqual(config.configuration, defaultConfiguration({}));
    assert.deepEqual(config.controllers, { enabled: true, concurrency: undefined });
    assert.deepEqual(config.webhook, { enabled: true, certMode: undefined });
    assert.deepEqual(config.dashboard, { enabled: true, bindAddress: undefined });
    assert.equal(config.metricsSecure, true);
    assert.equal(config.shutdownTimeoutMs, 8_000);
    assert.deepEqual(config.log, { level: "info", format: "text" });
  });
  await t.step("switches", async () => {
    const config = await resolve({
      controllers: false,
      webhook: false,
      dashboard: false,
      metricsSecure: false,
      concurrency: 3,
    });
    assert.deepEqual(config.controllers, { enabled: false, concurrency: 3 });
    assert.equal(config.webhook.enabled, false);
    assert.equal(config.dashboard.enabled, false);
    assert.equal(config.metricsSecure, false);
    assert.equal((await resolve({ dashboardBindAddress: "0" })).dashboard.enabled, false);
  });
  await t.step("ENABLE_WEBHOOKS=false turns the webhooks off, like upstream", async () => {
    assert.equal((await resolve({}, undefined, { ENABLE_WEBHOOKS: "false" })).webhook.enabled, false);
    assert.equal((await resolve({}, undefined, { ENABLE_WEBHOOKS: "true" })).webhook.enabled, true);
  });
  await t.step("groupKindConcurrency feeds the controllers' concurrency unless --concurrency is given", async () => {
    const gkc = HEADER + "controller: {groupKindConcurrency: {LeaderWorkerSet.leaderworkerset.x-k8s.io: 2, Pod: 5}}\n";
    assert.deepEqual((await resolve({}, gkc)).controllers.concurrency, { leaderWorkerSet: 2, pod: 5 });
    assert.equal((await resolve({ concurrency: 7 }, gkc)).controllers.concurrency, 7);
  });
  await t.step("accepted-but-ignored fields are noted", async () => {
    const config = await resolve({}, HEADER + "pprofBindAddress: ':6060'\n");
    assert.match(config.notes.join(), /pprofBindAddress/);
    const tls = await resolve(
      {},
      HEADER + "tls: {minVersion: VersionTLS12, cipherSuites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]}\n",
    );
    assert.match(tls.notes.join(), /tls\.cipherSuites is validated but not applied/);
  });
});

Deno.test("resolveConfig() names the flag, variable or field of every error", async (t) => {
  const cases: [string, RunFlags, string | undefined, RegExp][] = [
    [
      "unreadable file",
      { config: "/missing.yaml" },
      undefined,
      /Cannot read config file \/missing\.yaml \(--config\): No such file/,
    ],
    ["bad file", {}, "kind: x\n", /Cannot load config file \/c\.yaml:/],
    [
      "invalid file value",
      {},
      HEADER + "webhook: {port: -1}\n",
      /Invalid configuration \(config file \/c\.yaml with the flags given\): webhook\.port/,
    ],
    [
      "lease duration flag",
      { leaderElectLeaseDuration: "15" },
      undefined,
      /Invalid value for --leader-elect-lease-duration: "15" is not a duration/,
    ],
    ["renew deadline flag", { leaderElectRenewDeadline: "x" }, undefined, /--leader-elect-renew-deadline/],
    ["retry period flag", { leaderElectRetryPeriod: "1d" }, undefined, /--leader-elect-retry-period/],
    [
      "inconsistent lease flags",
      { leaderElectRenewDeadline: "20s" },
      undefined,
      /leaderElection\.leaseDuration: Invalid value: "15s"/,
    ],
    [
      "resource lock flag",
      { leaderElectResourceLock: "endpoints" },
      undefined,
      /leaderElection\.resourceLock: Unsupported value: "endpoints"/,
    ],
    ["metrics address flag", { metricsBindAddress: "nope" }, undefined, /metrics\.bindAddress: Invalid value: "nope"/],
    ["health address flag", { healthProbeBindAddress: ":x" }, undefined, /health\.healthProbeBindAddress/],
    [
      "dashboard address flag",
      { dashboardBindAddress: "1.2.3.4" },
      undefined,
      /Invalid value for --dashboard-bind-address: "1\.2\.3\.4"/,
    ],
    ["namespace flag", { namespace: "Team_A" }, undefined, /Invalid value for --namespace: "Team_A"/],
    ["shutdown timeout flag", { shutdownTimeout: "soon" }, undefined, /Invalid value for --shutdown-timeout: "soon"/],
    [
      "log level flag",
      { logLevel: "loud" },
      undefined,
      /Invalid value for --log-level: "loud": must be one of debug, info, warning, error/,
    ],
    [
      "log format flag",
      { logFormat: "xml" },
      undefined,
      /Invalid value for --log-format: "xml": must be one of text, json/,
    ],
    ["qps flag", { kubeApiQps: -5 }, undefined, /clientConnection\.qps: Invalid value: -5/],
    [
      "webhook cert mode flag",
      { webhookCertMode: "vault" },
      undefined,
      /Invalid value for --webhook-cert-mode: "vault"/,
    ],
  ];
  for (const [name, flags, file, message] of cases) {
    await t.step(name, () => rejects(resolve(flags, file), message));
  }
});

Deno.test("applyModeDefaults() binds local runs to 127.0.0.1 and keeps given addresses", async (t) => {
  await t.step("local mode", async () => {
    const e = applyModeDefaults(await resolve({}), "local");
    assert.deepEqual(e.metricsAddress, { hostname: "127.0.0.1", port: 8443 });
    assert.deepEqual(e.healthAddress, { hostname: "127.0.0.1", port: 8081 });
    assert.deepEqual(e.dashboardAddress, { hostname: "127.0.0.1", port: 8082 });
    assert.equal(e.configuration.webhook.host, "127.0.0.1");
    assert.equal(e.operatorNamespace, "lws-system");
  });
  await t.step("in-cluster mode", async () => {
    const e = applyModeDefaults(await resolve({ namespace: "team-a" }), "in-cluster", "ops\n");
    assert.deepEqual(e.metricsAddress, { hostname: "0.0.0.0", port: 8443 });
    assert.deepEqual(e.healthAddress, { hostname: "0.0.0.0", port: 8081 });
    assert.deepEqual(e.dashboardAddress, { hostname: "0.0.0.0", port: 8082 });
    assert.equal(e.configuration.webhook.host, "");
    assert.equal(e.operatorNamespace, "ops", "the service account's namespace wins");
    assert.equal(applyModeDefaults(await resolve({}), "in-cluster", undefined).operatorNamespace, "lws-system");
  });
  await t.step("explicit addresses stay in local mode", async () => {
    const e = applyModeDefaults(
      await resolve({
        metricsBindAddress: ":9",
        healthProbeBindAddress: "0",
        dashboardBindAddress: ":7",
        webhookHost: "",
      }),
      "local",
    );
    assert.deepEqual(e.metricsAddress, { hostname: "0.0.0.0", port: 9 });
    assert.equal(e.healthAddress, "disabled");
    assert.deepEqual(e.dashboardAddress, { hostname: "0.0.0.0", port: 7 });
    assert.equal(e.configuration.webhook.host, "");
  });
  await t.step("local operator namespace: resourceNamespace, then --namespace", async () => {
    assert.equal(applyModeDefaults(await resolve({ namespace: "team-a" }), "local").operatorNamespace, "team-a");
    assert.equal(
      applyModeDefaults(await resolve({ namespace: "team-a", leaderElectResourceNamespace: "ops" }), "local")
        .operatorNamespace,
      "ops",
    );
  });
  await t.step("dashboard off", async () => {
    assert.equal(applyModeDefaults(await resolve({ dashboard: false }), "local").dashboardAddress, "disabled");
  });
});
