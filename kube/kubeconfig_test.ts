import assert from "node:assert/strict";
import { stringify } from "yaml";
import { ManualClock } from "./clock.ts";
import {
  inClusterConfig,
  KubeConfigError,
  kubeConfigPath,
  loadClusterConfig,
  loadKubeConfig,
  TOKEN_FILE_REREAD_MS,
} from "./kubeconfig.ts";

const CA = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n";
const b64 = (s: string) => btoa(s);

/** A temp dir removed after `fn`. */
async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "lws-kubeconfig-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function kubeconfig(users: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    "current-context": "main",
    clusters: [
      { name: "c1", cluster: { server: "https://127.0.0.1:6443/", "certificate-authority-data": b64(CA) } },
      { name: "c2", cluster: { server: "https://10.0.0.1:443", "certificate-authority": "ca.crt" } },
      { name: "insecure", cluster: { server: "https://example:1", "insecure-skip-tls-verify": true } },
    ],
    contexts: [
      { name: "main", context: { cluster: "c1", user: "u", namespace: "team-a" } },
      { name: "files", context: { cluster: "c2", user: "u" } },
      { name: "insecure", context: { cluster: "insecure", user: "u" } },
      { name: "broken-cluster", context: { cluster: "nope", user: "u" } },
      { name: "broken-user", context: { cluster: "c1", user: "nobody" } },
    ],
    users: [{ name: "u", user: users }],
    ...extra,
  });
}

const env = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("loadKubeConfig() reads embedded client certificate data and the context namespace", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/config`;
    await Deno.writeTextFile(path, kubeconfig({ "client-certificate-data": b64(CERT), "client-key-data": b64(KEY) }));
    const config = await loadKubeConfig({ path });
    assert.equal(config.server, "https://127.0.0.1:6443");
    assert.equal(config.namespace, "team-a");
    assert.deepEqual(config.caCerts, [CA]);
    assert.equal(config.insecureSkipTLSVerify, false);
    assert.equal(config.context, "main");
    assert.match(config.source, /context "main"/);
    assert.deepEqual(await config.credentials.get(), { cert: CERT, key: KEY });
    assert.equal(config.credentials.refreshable, false);
  });
});

Deno.test("loadKubeConfig() resolves certificate files relative to the kubeconfig and honours --context", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/ca.crt`, CA);
    await Deno.mkdir(`${dir}/certs`);
    await Deno.writeTextFile(`${dir}/certs/client.crt`, CERT);
    await Deno.writeTextFile(`${dir}/certs/client.key`, KEY);
    const path = `${dir}/config`;
    await Deno.writeTextFile(
      path,
      kubeconfig({ "client-certificate": "certs/client.crt", "client-key": `${dir}/certs/client.key` }),
    );
    const config = await loadKubeConfig({ path, context: "files" });
    assert.equal(config.server, "https://10.0.0.1", "the default port is dropped");
    assert.equal(config.namespace, "default");
    assert.deepEqual(config.caCerts, [CA]);
    assert.deepEqual(await config.credentials.get(), { cert: CERT, key: KEY });
  });
});

Deno.test("loadKubeConfig() takes insecure-skip-tls-verify and a static or basic credential", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/config`;
    await Deno.writeTextFile(path, kubeconfig({ token: "abc" }));
    const config = await loadKubeConfig({ path, context: "insecure" });
    assert.equal(config.insecureSkipTLSVerify, true);
    assert.equal(config.caCerts, undefined);
    assert.deepEqual(await config.credentials.get(), { authorization: "Bearer abc" });
    await Deno.writeTextFile(path, kubeconfig({ username: "admin", password: "pä" }));
    const basic = await loadKubeConfig({ path });
    const header = (await basic.credentials.get()).authorization ?? "";
    assert.equal(new TextDecoder().decode(Uint8Array.from(atob(header.slice(6)), (c) => c.charCodeAt(0))), "admin:pä");
  });
});

Deno.test("loadKubeConfig() re-reads a token file every minute and after invalidate()", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/config`;
    await Deno.writeTextFile(`${dir}/token`, "one\n");
    await Deno.writeTextFile(path, kubeconfig({ tokenFile: "token" }));
    const clock = new ManualClock();
    const config = await loadKubeConfig({ path, clock });
    assert.equal(config.credentials.refreshable, true);
    assert.equal((await config.credentials.get()).authorization, "Bearer one");
    await Deno.writeTextFile(`${dir}/token`, "two");
    assert.equal((await config.credentials.get()).authorization, "Bearer one", "cached");
    await clock.advance(TOKEN_FILE_REREAD_MS);
    assert.equal((await config.credentials.get()).authorization, "Bearer two", "re-read after a minute");
    await Deno.writeTextFile(`${dir}/token`, "three");
    config.credentials.invalidate();
    assert.equal((await config.credentials.get()).authorization, "Bearer three", "re-read after a 401");
    await Deno.remove(`${dir}/token`);
    config.credentials.invalidate();
    assert.equal((await config.credentials.get()).authorization, "Bearer three", "keeps the last good token");
  });
});

Deno.test("loadKubeConfig() names the file and field of a missing token file", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/config`;
    await Deno.writeTextFile(path, kubeconfig({ tokenFile: "missing-token" }));
    const config = await loadKubeConfig({ path });
    await assert.rejects(
      config.credentials.get(),
      (err: Error) =>
        err instanceof KubeConfigError && err.message.includes(path) &&
        err.message.includes("users[name=u].user.tokenFile"),
    );
  });
});

Deno.test("loadKubeConfig() runs an exec credential plugin, caches until expiry, re-runs after a 401", async (t) => {
  await withTempDir(async (dir) => {
    const counter = `${dir}/runs`;
    const script = `${dir}/plugin.sh`;
    // Prints a token that counts the runs and echoes an arg, an env var and the exec info's apiVersion.
    await Deno.writeTextFile(
      script,
      `#!/bin/sh
n=$(( $(cat "${counter}" 2>/dev/null || echo 0) + 1 ))
echo $n > "${counter}"
api=$(echo "$KUBERNETES_EXEC_INFO" | sed -n 's/.*"apiVersion":"\\([^"]*\\)".*/\\1/p')
printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"t%s-%s-%s","expirationTimestamp":"%s"}}' "$api" "$n" "$1" "$PLUGIN_VAR" "$EXPIRY"
`,
    );
    await Deno.chmod(script, 0o755);
    const clock = new ManualClock(Date.parse("2030-01-01T00:00:00Z"));
    for (const apiVersion of ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]) {
      await t.step(apiVersion, async () => {
        await Deno.writeTextFile(counter, "0");
        const path = `${dir}/config`;
        await Deno.writeTextFile(
          path,
          kubeconfig({
            exec: {
              apiVersion,
              command: "./plugin.sh",
              args: ["arg1"],
              env: [{ name: "PLUGIN_VAR", value: "v" }, { name: "EXPIRY", value: "2030-01-01T00:10:00Z" }],
              interactiveMode: "Never",
            },
          }),
        );
        const config = await loadKubeConfig({ path, clock: new ManualClock(clock.now()) });
        const [a, b] = await Promise.all([config.credentials.get(), config.credentials.get()]);
        assert.equal(a.authorization, "Bearer t1-arg1-v", "one run for concurrent calls");
        assert.equal(b.authorization, "Bearer t1-arg1-v");
        assert.equal((await config.credentials.get()).authorization, "Bearer t1-arg1-v", "cached");
        config.credentials.invalidate();
        assert.equal((await config.credentials.get()).authorization, "Bearer t2-arg1-v", "re-run after a 401");
      });
    }
    await t.step("expiry", async () => {
      await Deno.writeTextFile(counter, "0");
      const path = `${dir}/config`;
      await Deno.writeTextFile(
        path,
        kubeconfig({
          exec: {
            apiVersion: "client.authentication.k8s.io/v1",
            command: script,
            env: [{ name: "EXPIRY", value: "2030-01-01T00:10:00Z" }],
            interactiveMode: "IfAvailable",
          },
        }),
      );
      const config = await loadKubeConfig({ path, clock });
      assert.match((await config.credentials.get()).authorization ?? "", /^Bearer t1-/);
      await clock.advance(9 * 60_000);
      assert.match((await config.credentials.get()).authorization ?? "", /^Bearer t1-/, "still valid");
      await clock.advance(60_000);
      assert.match((await config.credentials.get()).authorization ?? "", /^Bearer t2-/, "expired → re-run");
    });
  });
});

Deno.test("loadKubeConfig() reports a failing exec plugin with the field and stderr", async () => {
  await withTempDir(async (dir) => {
    const script = `${dir}/fail.sh`;
    await Deno.writeTextFile(script, "#!/bin/sh\necho 'no credentials for you' >&2\nexit 3\n");
    await Deno.chmod(script, 0o755);
    const path = `${dir}/config`;
    await Deno.writeTextFile(
      path,
      kubeconfig({ exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: script } }),
    );
    const config = await loadKubeConfig({ path });
    await assert.rejects(config.credentials.get(), (err: Error) => {
      assert.ok(err instanceof KubeConfigError);
      assert.match(err.message, /users\[name=u\]\.user\.exec\.command/);
      assert.match(err.message, /exit code 3: no credentials for you/);
      return true;
    });
    await Deno.writeTextFile(
      path,
      kubeconfig({ exec: { apiVersion: "client.authentication.k8s.io/v1alpha1", command: "x" } }),
    );
    await assert.rejects(
      loadKubeConfig({ path }),
      /exec\.apiVersion: must be client\.authentication\.k8s\.io\/v1 or v1beta1/,
    );
  });
});

Deno.test("loadKubeConfig() errors name the file and the missing context, cluster or user", async (t) => {
  await withTempDir(async (dir) => {
    const path = `${dir}/config`;
    await Deno.writeTextFile(path, kubeconfig({ token: "x" }));
    const cases: [string, string | undefined, RegExp][] = [
      ["missing context", "nope", /contexts has no context named "nope" \(have: main, files, insecure/],
      [
        "missing cluster",
        "broken-cluster",
        /clusters has no cluster named "nope" \(used by context "broken-cluster"\)/,
      ],
      ["missing user", "broken-user", /users has no user named "nobody"/],
    ];
    for (const [label, context, pattern] of cases) {
      await t.step(label, async () => {
        await assert.rejects(loadKubeConfig({ path, context }), (err: Error) => {
          assert.ok(err instanceof KubeConfigError);
          assert.ok(err.message.includes(path), err.message);
          assert.match(err.message, pattern);
          return true;
        });
      });
    }
    await t.step("no current context", async () => {
      await Deno.writeTextFile(path, kubeconfig({ token: "x" }, { "current-context": "" }));
      await assert.rejects(loadKubeConfig({ path }), /current-context is not set and no context was given/);
    });
    await t.step("missing file", async () => {
      await assert.rejects(loadKubeConfig({ path: `${dir}/absent` }), /Cannot read kubeconfig .*absent/);
    });
    await t.step("missing certificate file", async () => {
      await Deno.writeTextFile(path, kubeconfig({ "client-certificate": "gone.crt", "client-key": "gone.key" }));
      await assert.rejects(loadKubeConfig({ path }), /users\[name=u\]\.user\.client-certificate \(.*gone\.crt\)/);
    });
  });
});

Deno.test("kubeConfigPath() prefers the option, then the first KUBECONFIG entry, then ~/.kube/config", () => {
  assert.equal(kubeConfigPath("/explicit", env({ KUBECONFIG: "/a" })), "/explicit");
  assert.equal(kubeConfigPath(undefined, env({ KUBECONFIG: ":/a:/b", HOME: "/h" })), "/a");
  assert.equal(kubeConfigPath(undefined, env({ HOME: "/h" })), "/h/.kube/config");
  assert.equal(kubeConfigPath(undefined, env({})), undefined);
});

Deno.test("inClusterConfig() uses the service-account files and re-reads the token", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/ca.crt`, CA);
    await Deno.writeTextFile(`${dir}/token`, "sa-token-1");
    await Deno.writeTextFile(`${dir}/namespace`, "lws-system\n");
    const clock = new ManualClock();
    const config = await inClusterConfig({
      env: env({ KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" }),
      serviceAccountDir: dir,
      clock,
    });
    assert.equal(config.server, "https://10.96.0.1:443");
    assert.equal(config.namespace, "lws-system");
    assert.deepEqual(config.caCerts, [CA]);
    assert.equal(config.source, "in-cluster");
    assert.equal((await config.credentials.get()).authorization, "Bearer sa-token-1");
    await Deno.writeTextFile(`${dir}/token`, "sa-token-2");
    await clock.advance(TOKEN_FILE_REREAD_MS);
    assert.equal((await config.credentials.get()).authorization, "Bearer sa-token-2");

    const v6 = await inClusterConfig({
      env: env({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "6443" }),
      serviceAccountDir: dir,
    });
    assert.equal(v6.server, "https://[fd00::1]:6443");
    await Deno.remove(`${dir}/namespace`);
    assert.equal(
      (await inClusterConfig({
        env: env({ KUBERNETES_SERVICE_HOST: "h", KUBERNETES_SERVICE_PORT: "1" }),
        serviceAccountDir: dir,
      })).namespace,
      "default",
    );
  });
});

Deno.test("inClusterConfig() fails clearly outside a cluster", async () => {
  await assert.rejects(
    inClusterConfig({ env: env({}) }),
    /KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set/,
  );
  await withTempDir(async (dir) => {
    await assert.rejects(
      inClusterConfig({
        env: env({ KUBERNETES_SERVICE_HOST: "h", KUBERNETES_SERVICE_PORT: "1" }),
        serviceAccountDir: dir,
      }),
      /service-account CA/,
    );
  });
});

Deno.test("loadClusterConfig() picks --kubeconfig, then KUBECONFIG, then in-cluster, then ~/.kube/config", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/config`;
    await Deno.writeTextFile(path, kubeconfig({ token: "x" }));
    await Deno.writeTextFile(`${dir}/ca.crt`, CA);
    await Deno.writeTextFile(`${dir}/token`, "sa");
    const inCluster = { KUBERNETES_SERVICE_HOST: "10.0.0.9", KUBERNETES_SERVICE_PORT: "443" };
    const sa = { serviceAccountDir: dir };
    assert.equal((await loadClusterConfig({ path, env: env(inCluster), ...sa })).server, "https://127.0.0.1:6443");
    assert.equal(
      (await loadClusterConfig({ env: env({ ...inCluster, KUBECONFIG: path }), ...sa })).server,
      "https://127.0.0.1:6443",
    );
    assert.equal((await loadClusterConfig({ env: env({ ...inCluster, HOME: dir }), ...sa })).source, "in-cluster");
    await Deno.mkdir(`${dir}/.kube`);
    await Deno.copyFile(path, `${dir}/.kube/config`);
    assert.match((await loadClusterConfig({ env: env({ HOME: dir }), ...sa })).source, /\.kube\/config/);
    await assert.rejects(loadClusterConfig({ env: env({ HOME: `${dir}/nowhere` }) }), /Cannot find a cluster config/);
  });
});
