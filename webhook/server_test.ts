import assert from "node:assert/strict";
import { WEBHOOK_PATH_VALIDATE_POD } from "../api/constants.ts";
import { createWebhookApp } from "./app.ts";
import { generateCertificateAuthority, generateServingCertificate, type KeyPairPem, localIdentity } from "./certs.ts";
import { startWebhookServer, type WebhookServerOptions } from "./server.ts";
import { reviewBody } from "./_testing.ts";

async function pki(): Promise<{ ca: KeyPairPem; serving: KeyPairPem }> {
  const ca = await generateCertificateAuthority(Date.now());
  return { ca, serving: await generateServingCertificate(ca, localIdentity(), Date.now()) };
}

const [first, second] = await Promise.all([pki(), pki()]);

function serve(extra: Partial<WebhookServerOptions> = {}) {
  return startWebhookServer(createWebhookApp().fetch, {
    certificate: first.serving,
    port: 0,
    hostname: "127.0.0.1",
    ...extra,
  });
}

async function admitOver(client: Deno.HttpClient, port: number): Promise<number> {
  const res = await fetch(`https://127.0.0.1:${port}${WEBHOOK_PATH_VALIDATE_POD}`, {
    method: "POST",
    body: reviewBody({ operation: "CREATE", object: {} }),
    headers: { "content-type": "application/json" },
    ...{ client },
  });
  const review = await res.json();
  assert.equal(review.response.allowed, true);
  return res.status;
}

Deno.test("startWebhookServer() serves admission reviews over TLS, HTTP/1.1 only", async () => {
  const server = await serve();
  const client = Deno.createHttpClient({ caCerts: [first.ca.cert] });
  try {
    assert.equal(server.ready, true);
    assert.equal(await admitOver(client, server.addr.port), 200);
    const conn = await Deno.connectTls({
      hostname: "127.0.0.1",
      port: server.addr.port,
      caCerts: [first.ca.cert],
      alpnProtocols: ["h2", "http/1.1"],
    });
    const handshake = await conn.handshake();
    conn.close();
    assert.equal(handshake.alpnProtocol, "http/1.1");
  } finally {
    client.close();
    await server.shutdown();
  }
  assert.equal(server.ready, false);
});

Deno.test("startWebhookServer() swaps certificates under load without a failed request", async () => {
  const server = await serve();
  const both = [first.ca.cert, second.ca.cert];
  const pooled = Deno.createHttpClient({ caCerts: both });
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  // Workers alternate between a pooled keep-alive client and fresh clients (a new TLS handshake each time).
  const worker = async (fresh: boolean) => {
    while (!stop) {
      const client = fresh ? Deno.createHttpClient({ caCerts: both }) : pooled;
      try {
        await admitOver(client, server.addr.port);
        ok++;
      } catch (err) {
        failures.push(String(err));
      } finally {
        if (fresh) client.close();
      }
    }
  };
  try {
    const workers = [...Array(4)].map((_, i) => worker(i % 2 === 0));
    for (let i = 0; i < 10; i++) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      server.setCertificate(i % 2 === 0 ? second.serving : first.serving);
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
    stop = true;
    await Promise.all(workers);
    assert.deepEqual(failures, []);
    assert.ok(ok > 20, `only ${ok} requests`);

    // The last swap installed the first pair: a client trusting only the second CA now fails, then works after
    // one more swap.
    const onlySecond = Deno.createHttpClient({ caCerts: [second.ca.cert] });
    try {
      await assert.rejects(admitOver(onlySecond, server.addr.port));
    } finally {
      onlySecond.close();
    }
    server.setCertificate(second.serving);
    const onlySecondAgain = Deno.createHttpClient({ caCerts: [second.ca.cert] });
    try {
      assert.equal(await admitOver(onlySecondAgain, server.addr.port), 200);
    } finally {
      onlySecondAgain.close();
    }
  } finally {
    stop = true;
    pooled.close();
    await server.shutdown();
  }
});

Deno.test("startWebhookServer() refuses oversized bodies and keeps serving", async () => {
  const server = await startWebhookServer(createWebhookApp({ maxBodyBytes: 64 * 1024 }).fetch, {
    certificate: first.serving,
    port: 0,
    hostname: "127.0.0.1",
  });
  const client = Deno.createHttpClient({ caCerts: [first.ca.cert] });
  const url = `https://127.0.0.1:${server.addr.port}${WEBHOOK_PATH_VALIDATE_POD}`;
  const post = (body: BodyInit) =>
    fetch(url, { method: "POST", body, headers: { "content-type": "application/json" }, ...{ client } });
  try {
    const declared = await post("x".repeat(1024 * 1024));
    assert.equal(declared.status, 413);
    assert.equal(declared.headers.get("connection"), "close");
    await declared.body?.cancel();
    const chunked = await post(
      new ReadableStream({
        start(controller) {
          for (let i = 0; i < 32; i++) controller.enqueue(new TextEncoder().encode("y".repeat(32 * 1024)));
          controller.close();
        },
      }),
    );
    assert.equal(chunked.status, 413);
    await chunked.body?.cancel();
    assert.equal(await admitOver(client, server.addr.port), 200);
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("startWebhookServer() keeps the old certificate when the new one does not parse", async () => {
  const server = await serve();
  const client = Deno.createHttpClient({ caCerts: [first.ca.cert] });
  try {
    assert.throws(() => server.setCertificate({ cert: "garbage", key: "garbage" }), /Cannot use certificate/);
    assert.throws(() => server.setCertificate({ cert: second.serving.cert, key: first.serving.key }), /does not match/);
    assert.equal(await admitOver(client, server.addr.port), 200);
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("startWebhookServer() stops when its signal aborts", async () => {
  const controller = new AbortController();
  const server = await serve({ signal: controller.signal });
  assert.equal(server.ready, true);
  controller.abort();
  await server.finished;
  assert.equal(server.ready, false);
  const client = Deno.createHttpClient({ caCerts: [first.ca.cert] });
  try {
    await assert.rejects(admitOver(client, server.addr.port));
  } finally {
    client.close();
  }
});
