import assert from "node:assert/strict";
import type { RunFlags } from "../config.ts";
import { type CliDeps, main } from "./mod.ts";

interface Captured {
  code: number;
  out: string;
  err: string;
  flags: RunFlags[];
}

/** Runs the CLI with captured output; `lws run` records its flags instead of running. */
async function cli(args: string[], run?: CliDeps["run"]): Promise<Captured> {
  let out = "";
  let err = "";
  const flags: RunFlags[] = [];
  const code = await main(args, {
    io: { out: (t) => (out += t), err: (t) => (err += t) },
    env: () => undefined,
    run: run ?? ((f) => {
      flags.push(f);
      return Promise.resolve(0);
    }),
  });
  return { code, out, err, flags };
}

Deno.test("main() prints help with examples for every command and exits 0", async (t) => {
  for (
    const args of [["--help"], ["run", "--help"], ["install", "--help"], ["uninstall", "--help"], ["version", "--help"]]
  ) {
    await t.step(args.join(" "), async () => {
      const { code, out } = await cli(args);
      assert.equal(code, 0);
      assert.match(out, /Usage: lws/);
      assert.match(out, /Examples:/);
    });
  }
  const { out } = await cli(["run", "--help"]);
  for (
    const flag of [
      "--config",
      "--kubeconfig",
      "--context",
      "--namespace",
      "--kube-api-qps",
      "--kube-api-burst",
      "--leader-elect ",
      "--leader-elect-lease-duration",
      "--leader-elect-renew-deadline",
      "--leader-elect-retry-period",
      "--leader-elect-resource-lock",
      "--leader-elect-resource-name",
      "--metrics-bind-address",
      "--health-probe-bind-address",
      "--dashboard-bind-address",
      "--webhook-port",
      "--log-level",
      "--log-format",
      "--no-controllers",
      "--no-webhook",
      "--no-dashboard",
    ]
  ) assert.ok(out.includes(flag), `run --help lacks ${flag}`);
});

Deno.test("main() prints the version, commit and Deno version", async (t) => {
  for (const args of [["version"], ["--version"]]) {
    await t.step(args.join(" "), async () => {
      const { code, out } = await cli(args);
      assert.equal(code, 0);
      assert.match(out, /^Version: v\d+\.\d+\.\d+\nGit Commit: ([0-9a-f]{40}|unknown)\nBuild Date: .+\nDeno: deno \d/);
    });
  }
  const json = JSON.parse((await cli(["version", "-o", "json"])).out);
  assert.equal(json.deno.startsWith("deno "), true);
  assert.equal(json.compiled, false);
});

Deno.test("main() maps run flags, leaving flags that are not given undefined", async (t) => {
  await t.step("nothing given", async () => {
    const { code, flags } = await cli(["run"]);
    assert.equal(code, 0);
    assert.deepEqual(Object.entries(flags[0]!).filter(([, v]) => v !== undefined), []);
  });
  await t.step("run is the default command (upstream's `/manager --config=…`)", async () => {
    const { flags } = await cli(["--config=/c.yaml", "--zap-log-level=2"]);
    assert.equal(flags[0]!.config, "/c.yaml");
    assert.equal(flags[0]!.logLevel, "debug");
  });
  await t.step("`deno task lws -- run …` passes a leading --", async () => {
    const { flags } = await cli(["--", "run", "--namespace", "a"]);
    assert.equal(flags[0]!.namespace, "a");
  });
  await t.step("every flag", async () => {
    const { code, flags } = await cli([
      "run",
      "--config",
      "/c.yaml",
      "--kubeconfig",
      "/k",
      "--context",
      "ctx",
      "--namespace",
      "ns",
      "--kube-api-qps",
      "12.5",
      "--kube-api-burst",
      "20",
      "--leader-elect=false",
      "--leader-elect-lease-duration",
      "20s",
      "--leader-elect-renew-deadline=15s",
      "--leader-elect-retry-period",
      "3s",
      "--leader-elect-resource-lock",
      "leases",
      "--leader-elect-resource-name",
      "lease",
      "--leader-elect-resource-namespace",
      "ops",
      "--metrics-bind-address",
      ":1",
      "--metrics-secure=false",
      "--health-probe-bind-address",
      ":2",
      "--dashboard-bind-address",
      ":3",
      "--webhook-port",
      "0",
      "--webhook-host",
      "127.0.0.1",
      "--webhook-cert-mode",
      "internal",
      "--no-controllers",
      "--no-webhook",
      "--no-dashboard",
      "--concurrency",
      "2",
      "--shutdown-timeout",
      "5s",
      "--log-level",
      "warning",
      "--log-format",
      "json",
    ]);
    assert.equal(code, 0);
    assert.deepEqual(flags[0], {
      config: "/c.yaml",
      kubeconfig: "/k",
      context: "ctx",
      namespace: "ns",
      kubeApiQps: 12.5,
      kubeApiBurst: 20,
      leaderElect: false,
      leaderElectLeaseDuration: "20s",
      leaderElectRenewDeadline: "15s",
      leaderElectRetryPeriod: "3s",
      leaderElectResourceLock: "leases",
      leaderElectResourceName: "lease",
      leaderElectResourceNamespace: "ops",
      metricsBindAddress: ":1",
      metricsSecure: false,
      healthProbeBindAddress: ":2",
      dashboardBindAddress: ":3",
      webhookPort: 0,
      webhookHost: "127.0.0.1",
      webhookCertMode: "internal",
      controllers: false,
      webhook: false,
      dashboard: false,
      concurrency: 2,
      shutdownTimeout: "5s",
      logLevel: "warning",
      logFormat: "json",
    });
  });
  await t.step("boolean spellings", async () => {
    assert.equal((await cli(["run", "--leader-elect"])).flags[0]!.leaderElect, true);
    assert.equal((await cli(["run", "--no-leader-elect"])).flags[0]!.leaderElect, false);
    assert.equal((await cli(["run", "--leader-elect=true"])).flags[0]!.leaderElect, true);
    assert.equal((await cli(["run", "--metrics-secure"])).flags[0]!.metricsSecure, true);
  });
});

Deno.test("main() exits 2 naming the flag for bad flags", async (t) => {
  const cases: [string[], RegExp][] = [
    [
      ["run", "--kube-api-qps", "fast"],
      /option '--kube-api-qps <qps>' argument 'fast' is invalid\. Must be a number ≥ 0/,
    ],
    [["run", "--kube-api-burst", "1.5"], /'--kube-api-burst <n>' argument '1\.5' is invalid\. Must be an integer ≥ 1/],
    [["run", "--kube-api-burst", "0"], /--kube-api-burst/],
    [["run", "--webhook-port", "70000"], /'--webhook-port <port>' argument '70000' is invalid\. Must be a port number/],
    [["run", "--leader-elect=maybe"], /'--leader-elect \[bool\]' argument 'maybe' is invalid\. Must be true or false/],
    [["run", "--metrics-secure=2"], /--metrics-secure/],
    [["run", "--log-level", "loud"], /'--log-level <level>' argument 'loud' is invalid\. Must be one of debug, info/],
    [["run", "--log-format", "xml"], /'--log-format <format>' argument 'xml' is invalid\. Must be one of text, json/],
    [["run", "--concurrency", "0"], /--concurrency/],
    [["run", "--webhook-cert-mode", "vault"], /'--webhook-cert-mode <mode>' argument 'vault' is invalid/],
    [["run", "--zap-log-level", "chatty"], /--zap-log-level/],
    [["run", "--no-such-flag"], /unknown option '--no-such-flag'/],
    [["run", "--namespace"], /option '--namespace <name>' argument missing/],
    [["run", "extra"], /too many arguments for 'run'/],
    [["version", "-o", "yaml"], /'-o, --output <format>' argument 'yaml' is invalid/],
    [["frobnicate"], /too many arguments|unknown command/],
  ];
  for (const [args, message] of cases) {
    await t.step(args.join(" "), async () => {
      const { code, err, flags } = await cli(args);
      assert.equal(code, 2, err);
      assert.match(err, message);
      assert.deepEqual(flags, [], "the command did not run");
    });
  }
});

Deno.test("main() exits 2 for configuration errors of the default run", async (t) => {
  const cases: [string[], RegExp][] = [
    [
      ["run", "--config", "/nonexistent/lws.yaml"],
      /error: Cannot read config file \/nonexistent\/lws\.yaml \(--config\)/,
    ],
    [["run", "--leader-elect-lease-duration", "15"], /error: Invalid value for --leader-elect-lease-duration: "15"/],
    [
      ["run", "--metrics-bind-address", "8443"],
      /error: Invalid configuration .*metrics\.bindAddress: Invalid value: "8443"/,
    ],
    [["run", "--namespace", "Not_A_Namespace"], /error: Invalid value for --namespace/],
  ];
  for (const [args, message] of cases) {
    await t.step(args.join(" "), async () => {
      let err = "";
      const code = await main(args, { io: { out: () => {}, err: (t) => (err += t) }, env: () => undefined });
      assert.equal(code, 2, err);
      assert.match(err, message);
    });
  }
});

Deno.test("main() exits 2 when install or uninstall cannot load the kubeconfig", async (t) => {
  for (const command of ["install", "uninstall"]) {
    await t.step(command, async () => {
      const { code, err } = await cli([command, "--kubeconfig", "/nonexistent/kubeconfig"]);
      assert.equal(code, 2);
      assert.match(err, /error: Cannot load the cluster configuration: .*\/nonexistent\/kubeconfig/);
    });
  }
});

Deno.test("main() passes the run's exit code through", async () => {
  assert.equal((await cli(["run"], () => Promise.resolve(1))).code, 1);
  assert.equal((await cli(["run"], () => Promise.resolve(2))).code, 2);
});
