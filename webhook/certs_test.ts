import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { createCertificateAuthority } from "../tests/cluster/pki.ts";
import {
  CA_COMMON_NAME,
  type CertificateBundle,
  checkServingCertificate,
  ensureCertificates,
  generateCertificateAuthority,
  generateServingCertificate,
  inClusterIdentity,
  localIdentity,
  NOT_BEFORE_SKEW_MS,
  ROTATION_LOOKAHEAD_MS,
} from "./certs.ts";

const DAY = 24 * 3600 * 1000;
const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const identity = inClusterIdentity("lws-webhook-service", "lws-system");
const fresh = await ensureCertificates(undefined, { identity, now: T0 });
const bundle = fresh.bundle;

function names(pem: string): string | undefined {
  return new X509Certificate(pem).subjectAltName;
}

Deno.test("ensureCertificates() creates a CA and a serving certificate as spec §11.5 describes", async (t) => {
  assert.equal(fresh.rotated, "all");
  assert.equal(fresh.reason, "CA is missing");
  const ca = new X509Certificate(bundle.caCert);
  const serving = new X509Certificate(bundle.servingCert);
  await t.step("CA: CN lws-ca, O lws, DNS lws-ca, 1 h back, 10 years ahead", () => {
    assert.equal(ca.subject, "CN=lws-ca\nO=lws");
    assert.equal(ca.ca, true);
    assert.equal(names(bundle.caCert), "DNS:lws-ca");
    assert.equal(new Date(ca.validFrom).getTime(), T0 - NOT_BEFORE_SKEW_MS);
    assert.equal(new Date(ca.validTo).toISOString(), "2036-01-15T12:00:00.000Z");
  });
  await t.step("serving: CN and DNS <service>.<ns>.svc, serverAuth, 1 year, signed by the CA", () => {
    assert.equal(serving.subject, "CN=lws-webhook-service.lws-system.svc");
    assert.equal(names(bundle.servingCert), "DNS:lws-webhook-service.lws-system.svc");
    assert.equal(serving.ca, false);
    assert.equal(new Date(serving.validFrom).getTime(), T0 - NOT_BEFORE_SKEW_MS);
    assert.equal(new Date(serving.validTo).toISOString(), "2027-01-15T12:00:00.000Z");
    assert.ok(serving.checkIssued(ca));
    assert.ok(serving.verify(ca.publicKey));
    assert.deepEqual(serving.keyUsage, ["DigitalSignature", "KeyEncipherment"]);
    const serverAuthOid = "06082b06010505070301"; // 1.3.6.1.5.5.7.3.1 in DER
    assert.ok(Buffer.from(serving.raw).toString("hex").includes(serverAuthOid));
  });
  await t.step("keys: RSA 2048 in PKCS#1 RSA PRIVATE KEY blocks", () => {
    for (const pem of [bundle.caKey, bundle.servingKey]) {
      assert.match(pem, /^-----BEGIN RSA PRIVATE KEY-----\n/);
      const key = createPrivateKey(pem);
      assert.equal(key.asymmetricKeyType, "rsa");
      assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
    }
    assert.ok(new X509Certificate(bundle.servingCert).checkPrivateKey(createPrivateKey(bundle.servingKey)));
  });
});

Deno.test("ensureCertificates() rotates on the 90-day thresholds (injected clock)", async (t) => {
  const servingExpiry = Date.UTC(2027, 0, 15, 12, 0, 0);
  const caExpiry = Date.UTC(2036, 0, 15, 12, 0, 0);
  const cases: { name: string; now: number; rotated: "none" | "serving" | "all" }[] = [
    { name: "right after creation", now: T0, rotated: "none" },
    { name: "a day before the serving window", now: servingExpiry - ROTATION_LOOKAHEAD_MS - DAY, rotated: "none" },
    { name: "inside the serving window", now: servingExpiry - ROTATION_LOOKAHEAD_MS, rotated: "serving" },
    { name: "serving expired", now: servingExpiry + DAY, rotated: "serving" },
    { name: "inside the CA window", now: caExpiry - ROTATION_LOOKAHEAD_MS + 1, rotated: "all" },
    { name: "before the certificates start (clock went back)", now: T0 - 2 * NOT_BEFORE_SKEW_MS, rotated: "all" },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const result = await ensureCertificates(bundle, { identity, now: c.now });
      assert.equal(result.rotated, c.rotated, result.reason);
      if (c.rotated === "none") assert.equal(result.bundle, bundle);
      if (c.rotated === "serving") {
        assert.equal(result.bundle.caCert, bundle.caCert);
        assert.equal(result.bundle.caKey, bundle.caKey);
        assert.notEqual(result.bundle.servingCert, bundle.servingCert);
        assert.equal(
          checkServingCertificate(bundle.caCert, {
            cert: result.bundle.servingCert,
            key: result.bundle.servingKey,
          }, { identity, now: c.now }),
          undefined,
        );
      }
      if (c.rotated === "all") assert.notEqual(result.bundle.caCert, bundle.caCert);
      // Whatever happened, the result is good at that time.
      assert.equal((await ensureCertificates(result.bundle, { identity, now: c.now })).rotated, "none");
    });
  }
});

/** A self-signed EC (P-256) CA for `lws-ca`, made with `openssl` like the local control plane's. */
async function ecCertificateAuthority(): Promise<Pick<CertificateBundle, "caCert" | "caKey">> {
  const dir = await Deno.makeTempDir({ prefix: "lws-ec-ca-" });
  try {
    const files = await createCertificateAuthority(dir, CA_COMMON_NAME);
    return { caCert: await Deno.readTextFile(files.cert), caKey: await Deno.readTextFile(files.key) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("ensureCertificates() regenerates what is broken", async (t) => {
  const other = await generateCertificateAuthority(T0);
  const foreign = await generateServingCertificate(other, identity, T0);
  const ec = await ecCertificateAuthority();
  const cases: { name: string; bundle: Partial<CertificateBundle>; rotated: "serving" | "all"; reason: RegExp }[] = [
    { name: "empty secret", bundle: {}, rotated: "all", reason: /CA is missing/ },
    { name: "garbage CA", bundle: { ...bundle, caCert: "garbage" }, rotated: "all", reason: /CA does not parse/ },
    {
      name: "CA key of another CA",
      bundle: { ...bundle, caKey: other.key },
      rotated: "all",
      reason: /CA key does not match/,
    },
    {
      name: "CA with an EC key (cannot sign RSA serving certificates)",
      bundle: { ...bundle, ...ec },
      rotated: "all",
      reason: /CA key is not RSA, got ec/,
    },
    {
      name: "serving certificate missing",
      bundle: { ...bundle, servingCert: "" },
      rotated: "serving",
      reason: /serving certificate is missing/,
    },
    {
      name: "serving certificate from another CA",
      bundle: { ...bundle, servingCert: foreign.cert, servingKey: foreign.key },
      rotated: "serving",
      reason: /not signed by the CA/,
    },
    {
      name: "serving key does not match",
      bundle: { ...bundle, servingKey: foreign.key },
      rotated: "serving",
      reason: /key does not match/,
    },
    {
      name: "serving certificate is a CA certificate (not for the identity)",
      bundle: { ...bundle, servingCert: bundle.caCert, servingKey: bundle.caKey },
      rotated: "serving",
      reason: /not valid for lws-webhook-service.lws-system.svc/,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const result = await ensureCertificates(c.bundle, { identity, now: T0 });
      assert.equal(result.rotated, c.rotated);
      assert.match(result.reason ?? "", c.reason);
    });
  }
  await t.step("a new identity (local mode) regenerates only the serving certificate", async () => {
    const result = await ensureCertificates(bundle, { identity: localIdentity(), now: T0 });
    assert.equal(result.rotated, "serving");
    assert.equal(names(result.bundle.servingCert), "DNS:localhost, IP Address:127.0.0.1");
  });
  await t.step("PKCS#8 keys are read as well", async () => {
    const pkcs8 = (pem: string) => createPrivateKey(pem).export({ type: "pkcs8", format: "pem" }).toString();
    const converted = { ...bundle, caKey: pkcs8(bundle.caKey), servingKey: pkcs8(bundle.servingKey) };
    assert.match(converted.caKey, /^-----BEGIN PRIVATE KEY-----/);
    const result = await ensureCertificates(converted, { identity, now: T0 });
    assert.equal(result.rotated, "none");
    const serving = await generateServingCertificate({ cert: converted.caCert, key: converted.caKey }, identity, T0);
    assert.ok(new X509Certificate(serving.cert).verify(new X509Certificate(bundle.caCert).publicKey));
  });
});

async function openssl(args: string[]): Promise<string> {
  const output = await new Deno.Command("openssl", { args, stdin: "null", stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`openssl ${args.join(" ")} failed (exit ${output.code}): ${text.trim()}`);
  return text;
}

Deno.test("generateServingCertificate() output is accepted by openssl verify and openssl x509", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "lws-certs-" });
  try {
    const local = await generateServingCertificate({ cert: bundle.caCert, key: bundle.caKey }, localIdentity(), T0);
    await Deno.writeTextFile(`${dir}/ca.crt`, bundle.caCert);
    await Deno.writeTextFile(`${dir}/tls.crt`, bundle.servingCert);
    await Deno.writeTextFile(`${dir}/local.crt`, local.cert);
    const verify = ["verify", "-x509_strict", "-purpose", "sslserver", "-attime", String(T0 / 1000 + 60)];
    await t.step("openssl x509 -text shows the CA as spec §11.5 describes", async () => {
      const text = await openssl(["x509", "-noout", "-text", "-in", `${dir}/ca.crt`]);
      assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
      assert.match(text, /Subject: CN = lws-ca, O = lws/);
      assert.match(text, /Public-Key: \(2048 bit\)/);
      assert.match(text, /Basic Constraints: critical\s+CA:TRUE/);
      assert.match(text, /Key Usage: critical\s+Digital Signature, Key Encipherment, Certificate Sign, CRL Sign/);
      assert.match(text, /Subject Alternative Name:\s+DNS:lws-ca\n/);
    });
    await t.step("openssl x509 -text shows the serving certificate with serverAuth", async () => {
      const text = await openssl(["x509", "-noout", "-text", "-in", `${dir}/tls.crt`]);
      assert.match(text, /Issuer: CN = lws-ca, O = lws/);
      assert.match(text, /Subject: CN = lws-webhook-service\.lws-system\.svc/);
      assert.match(text, /Extended Key Usage:\s+TLS Web Server Authentication/);
      assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
      assert.match(text, /Subject Alternative Name:\s+DNS:lws-webhook-service\.lws-system\.svc\n/);
    });
    await t.step("openssl verify -CAfile accepts the in-cluster serving certificate for its DNS name", async () => {
      const name = "lws-webhook-service.lws-system.svc";
      const out = await openssl([...verify, "-verify_hostname", name, "-CAfile", `${dir}/ca.crt`, `${dir}/tls.crt`]);
      assert.match(out, /tls\.crt: OK/);
    });
    await t.step("openssl verify -CAfile accepts the local serving certificate for 127.0.0.1", async () => {
      const out = await openssl([...verify, "-verify_ip", "127.0.0.1", "-CAfile", `${dir}/ca.crt`, `${dir}/local.crt`]);
      assert.match(out, /local\.crt: OK/);
    });
    await t.step("openssl verify rejects a serving certificate of another CA", async () => {
      const other = await generateCertificateAuthority(T0);
      await Deno.writeTextFile(`${dir}/other.crt`, other.cert);
      await assert.rejects(openssl([...verify, "-CAfile", `${dir}/other.crt`, `${dir}/tls.crt`]), /unable to get/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
