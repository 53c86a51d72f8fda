/**
 * Certificates of the webhook server (spec §11.5): a self-signed CA (`CN=lws-ca, O=lws`) and a serving certificate
 * it signs, their validity checks with the 90-day rotation lookahead, and PEM encoding with RSA keys in PKCS#1
 * (`RSA PRIVATE KEY`) blocks like upstream's cert-controller writes them.
 *
 * Certificates are built and signed with `@peculiar/x509` (sha256WithRSAEncryption) over WebCrypto keys; RSA keys
 * are converted to and from PEM with `node:crypto` (PKCS#1 out; PKCS#1 `RSA PRIVATE KEY` and PKCS#8 `PRIVATE KEY`
 * in), and certificates are parsed and verified with `node:crypto`'s `X509Certificate`. `@peculiar/x509` resolves its
 * algorithm providers through tsyringe, which needs the global `reflect-metadata` polyfill: it is imported first.
 *
 * Time is always passed in (`now`), so rotation logic is tested with any clock.
 *
 * @module
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { Buffer } from "node:buffer";
import { createPrivateKey, X509Certificate } from "node:crypto";

/** Validity of the CA in calendar years (Go's `AddDate(10, 0, 0)`). */
export const CA_VALIDITY_YEARS = 10;
/** Validity of the serving certificate in calendar years. */
export const SERVING_VALIDITY_YEARS = 1;
/** Both certificates start 1 hour in the past (clock skew). */
export const NOT_BEFORE_SKEW_MS = 3600 * 1000;
/** A certificate that expires within this window is regenerated: 90 days. */
export const ROTATION_LOOKAHEAD_MS = 90 * 24 * 3600 * 1000;
/** Subject common name and DNS name of the CA. */
export const CA_COMMON_NAME = "lws-ca";
/** Subject organisation of the CA. */
export const CA_ORGANIZATION = "lws";

/** A certificate and its private key, both PEM. */
export interface KeyPairPem {
  /** PEM `CERTIFICATE`. */
  cert: string;
  /** PEM private key: `RSA PRIVATE KEY` (PKCS#1) when written by us; `PRIVATE KEY` (PKCS#8) is read too. */
  key: string;
}

/** The four Secret keys of spec §11.5 (`ca.crt`, `ca.key`, `tls.crt`, `tls.key`), PEM. */
export interface CertificateBundle {
  /** CA certificate; base64 of it is the `caBundle` of the webhook configurations. */
  caCert: string;
  /** CA private key (PKCS#1). */
  caKey: string;
  /** Serving certificate (`tls.crt`). */
  servingCert: string;
  /** Serving private key (`tls.key`, PKCS#1). */
  servingKey: string;
}

/** Whom the serving certificate is for. */
export interface ServingIdentity {
  /** Subject common name. */
  commonName: string;
  /** DNS subject alternative names; all must be present for the certificate to be valid. */
  dnsNames: string[];
  /** IP subject alternative names (local mode: `127.0.0.1`); all must be present. */
  ipAddresses: string[];
}

/**
 * The in-cluster identity: CN and DNS SAN `<service>.<namespace>.svc` (default
 * `lws-webhook-service.lws-system.svc`).
 *
 * @param service The webhook Service name.
 * @param namespace The operator namespace.
 * @returns The identity.
 */
export function inClusterIdentity(service: string, namespace: string): ServingIdentity {
  const name = `${service}.${namespace}.svc`;
  return { commonName: name, dnsNames: [name], ipAddresses: [] };
}

/**
 * The local-mode identity (webhook on the host, registered by URL): CN `localhost`, SANs DNS `localhost` and IP
 * `127.0.0.1`.
 *
 * @returns The identity.
 */
export function localIdentity(): ServingIdentity {
  return { commonName: "localhost", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] };
}

// -------------------------------------------------------------------------------------------------------------------
// Generation

/** RSASSA-PKCS1-v1_5 with SHA-256: the key algorithm of both certificates and their signature algorithm. */
const RSA_SHA256: RsaHashedImportParams = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };

/**
 * Encodes DER as PEM with 64-character lines.
 *
 * @param label The PEM label, e.g. `CERTIFICATE`.
 * @param bytes The DER bytes.
 * @returns The PEM text, ending with a newline.
 */
export function toPem(label: string, bytes: Uint8Array): string {
  return `${x509.PemConverter.encode(new Uint8Array(bytes), label).trimEnd()}\n`;
}

interface RsaKeyPair {
  /** WebCrypto keys, for `@peculiar/x509`. */
  keys: CryptoKeyPair;
  /** PKCS#1 PEM (`RSA PRIVATE KEY`) of the private key. */
  pem: string;
}

async function generateRsaKey(): Promise<RsaKeyPair> {
  const keys = await crypto.subtle.generateKey(
    { ...RSA_SHA256, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ["sign", "verify"],
  );
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const pem = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }).export({ type: "pkcs1", format: "pem" });
  return { keys, pem: pem.toString() };
}

/** Imports an RSA private key PEM (PKCS#1 or PKCS#8) as a WebCrypto signing key. */
async function importSigningKey(pem: string): Promise<CryptoKey> {
  const pkcs8 = createPrivateKey(pem).export({ type: "pkcs8", format: "der" });
  return await crypto.subtle.importKey("pkcs8", new Uint8Array(pkcs8), RSA_SHA256, false, ["sign"]);
}

function addYears(ms: number, years: number): Date {
  const date = new Date(ms);
  date.setUTCFullYear(date.getUTCFullYear() + years);
  return date;
}

/** The certificate as PEM, ending with a newline like the keys `node:crypto` writes. */
function certificatePem(cert: x509.X509Certificate): string {
  return toPem("CERTIFICATE", new Uint8Array(cert.rawData));
}

/**
 * Generates the CA: RSA 2048, subject `CN=lws-ca, O=lws`, DNS SAN `lws-ca`, CA basic constraints, valid from
 * `now − 1 h` to `now + 10 years`.
 *
 * @param now The current time (ms since the epoch).
 * @returns The CA certificate and its PKCS#1 key, PEM.
 */
export async function generateCertificateAuthority(now: number): Promise<KeyPairPem> {
  const key = await generateRsaKey();
  const usages = x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment |
    x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: [{ CN: [CA_COMMON_NAME] }, { O: [CA_ORGANIZATION] }],
    notBefore: new Date(now - NOT_BEFORE_SKEW_MS),
    notAfter: addYears(now, CA_VALIDITY_YEARS),
    signingAlgorithm: RSA_SHA256,
    keys: key.keys,
    extensions: [
      new x509.KeyUsagesExtension(usages, true),
      new x509.BasicConstraintsExtension(true, undefined, true),
      await x509.SubjectKeyIdentifierExtension.create(key.keys.publicKey),
      new x509.SubjectAlternativeNameExtension([{ type: "dns", value: CA_COMMON_NAME }]),
    ],
  });
  return { cert: certificatePem(cert), key: key.pem };
}

/**
 * Generates a serving certificate signed by the CA: RSA 2048, the identity's CN and SANs, extended key usage
 * serverAuth, valid from `now − 1 h` to `now + 1 year`.
 *
 * @param ca The CA (certificate and key, PEM; the key in PKCS#1 or PKCS#8).
 * @param identity CN and SANs.
 * @param now The current time (ms since the epoch).
 * @returns The serving certificate and its PKCS#1 key, PEM.
 * @throws {Error} When the CA does not parse or its key is not RSA.
 */
export async function generateServingCertificate(
  ca: KeyPairPem,
  identity: ServingIdentity,
  now: number,
): Promise<KeyPairPem> {
  const caCert = new x509.X509Certificate(ca.cert);
  const signingKey = await importSigningKey(ca.key);
  const key = await generateRsaKey();
  // Like Go's x509.CreateCertificate: the authority key ID is the CA's subject key ID when it has one.
  const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const cert = await x509.X509CertificateGenerator.create({
    subject: [{ CN: [identity.commonName] }],
    issuer: caCert.subjectName,
    notBefore: new Date(now - NOT_BEFORE_SKEW_MS),
    notAfter: addYears(now, SERVING_VALIDITY_YEARS),
    signingAlgorithm: RSA_SHA256,
    publicKey: key.keys.publicKey,
    signingKey,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.BasicConstraintsExtension(false, undefined, true),
      caKeyId !== undefined
        ? new x509.AuthorityKeyIdentifierExtension(caKeyId)
        : await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
      new x509.SubjectAlternativeNameExtension([
        ...identity.dnsNames.map((value) => ({ type: "dns" as const, value })),
        ...identity.ipAddresses.map((value) => ({ type: "ip" as const, value })),
      ]),
    ],
  });
  return { cert: certificatePem(cert), key: key.pem };
}

// -------------------------------------------------------------------------------------------------------------------
// Checks

function subjectAltNames(cert: X509Certificate): { dns: string[]; ip: string[] } {
  const entries = (cert.subjectAltName ?? "").split(/,\s*/).filter((e) => e !== "");
  return {
    dns: entries.filter((e) => e.startsWith("DNS:")).map((e) => e.slice(4)),
    ip: entries.filter((e) => e.startsWith("IP Address:")).map((e) => e.slice(11)),
  };
}

/** Parses a certificate and key and checks that they belong together; returns the certificate or a reason. */
function parsePair(pair: Partial<KeyPairPem>, what: string): X509Certificate | string {
  if (!pair.cert || !pair.key) return `${what} is missing`;
  try {
    const cert = new X509Certificate(pair.cert);
    if (!cert.checkPrivateKey(createPrivateKey(pair.key))) return `${what} key does not match its certificate`;
    return cert;
  } catch (err) {
    return `${what} does not parse: ${err instanceof Error ? err.message : String(err)}`;
  }
}

function checkDates(cert: X509Certificate, what: string, now: number): string | undefined {
  const notBefore = new Date(cert.validFrom).getTime();
  const notAfter = new Date(cert.validTo).getTime();
  if (!(notBefore <= now)) return `${what} is not valid before ${cert.validFrom}`;
  if (!(notAfter > now + ROTATION_LOOKAHEAD_MS)) {
    return `${what} expires at ${cert.validTo}, within the 90-day rotation window`;
  }
  return undefined;
}

/**
 * Checks the CA: present, certificate and key match, an RSA self-signed CA for `lws-ca`, valid now and for more
 * than 90 days.
 *
 * @param ca The CA (fields may be missing).
 * @param now The current time (ms since the epoch).
 * @returns Why the CA must be regenerated, or undefined when it is good.
 */
export function checkCertificateAuthority(ca: Partial<KeyPairPem>, now: number): string | undefined {
  const cert = parsePair(ca, "CA");
  if (typeof cert === "string") return cert;
  if (!cert.ca) return "CA certificate is not a CA";
  // We sign with RSASSA-PKCS1-v1_5 (spec §11.5: RSA 2048); a CA with another key type cannot sign serving certificates.
  if (cert.publicKey.asymmetricKeyType !== "rsa") return `CA key is not RSA, got ${cert.publicKey.asymmetricKeyType}`;
  if (!cert.verify(cert.publicKey)) return "CA certificate is not self-signed";
  if (!subjectAltNames(cert).dns.includes(CA_COMMON_NAME)) return `CA certificate is not for ${CA_COMMON_NAME}`;
  return checkDates(cert, "CA certificate", now);
}

/**
 * Checks the serving certificate: present, matches its key, signed by the CA, carries every SAN of the identity,
 * valid now and for more than 90 days.
 *
 * @param ca The CA certificate (PEM).
 * @param serving The serving certificate and key (fields may be missing).
 * @param options The identity the certificate must serve, and `now` (ms since the epoch).
 * @returns Why the serving certificate must be regenerated, or undefined when it is good.
 */
export function checkServingCertificate(
  ca: string,
  serving: Partial<KeyPairPem>,
  options: { identity: ServingIdentity; now: number },
): string | undefined {
  const cert = parsePair(serving, "serving certificate");
  if (typeof cert === "string") return cert;
  try {
    if (!cert.verify(new X509Certificate(ca).publicKey)) return "serving certificate is not signed by the CA";
  } catch (err) {
    return `serving certificate cannot be verified: ${err instanceof Error ? err.message : String(err)}`;
  }
  const names = subjectAltNames(cert);
  for (const dns of options.identity.dnsNames) {
    if (!names.dns.includes(dns)) return `serving certificate is not valid for ${dns}`;
  }
  for (const ip of options.identity.ipAddresses) {
    if (!names.ip.includes(ip)) return `serving certificate is not valid for ${ip}`;
  }
  return checkDates(cert, "serving certificate", options.now);
}

function bundleOf(ca: KeyPairPem, serving: KeyPairPem): CertificateBundle {
  return { caCert: ca.cert, caKey: ca.key, servingCert: serving.cert, servingKey: serving.key };
}

/** Result of {@linkcode ensureCertificates}. */
export interface EnsureResult {
  /** The bundle to use: the input when it was good, else a new one. */
  bundle: CertificateBundle;
  /** What was regenerated: nothing, only the serving certificate, or CA and serving certificate. */
  rotated: "none" | "serving" | "all";
  /** Why something was regenerated. */
  reason?: string;
}

/**
 * The rotation decision of spec §11.5: regenerate CA and serving certificate when the CA is missing, invalid or
 * expires within 90 days; regenerate only the serving certificate when it is missing, invalid for the identity or
 * expires within 90 days; otherwise keep everything.
 *
 * @param current What is stored now (fields may be missing or garbage).
 * @param options The identity to serve and `now` (ms since the epoch).
 * @returns The bundle to store and serve, and what changed.
 * @example
 * const { bundle, rotated } = await ensureCertificates(fromSecret(secret), { identity, now: clock.now() });
 * if (rotated !== "none") await writeSecret(bundle);
 */
export async function ensureCertificates(
  current: Partial<CertificateBundle> | undefined,
  options: { identity: ServingIdentity; now: number },
): Promise<EnsureResult> {
  const { identity, now } = options;
  const caProblem = checkCertificateAuthority({ cert: current?.caCert, key: current?.caKey }, now);
  if (caProblem !== undefined) {
    const ca = await generateCertificateAuthority(now);
    const serving = await generateServingCertificate(ca, identity, now);
    return { bundle: bundleOf(ca, serving), rotated: "all", reason: caProblem };
  }
  const ca = { cert: current!.caCert!, key: current!.caKey! };
  const servingProblem = checkServingCertificate(ca.cert, {
    cert: current?.servingCert,
    key: current?.servingKey,
  }, options);
  if (servingProblem !== undefined) {
    const serving = await generateServingCertificate(ca, identity, now);
    return { bundle: bundleOf(ca, serving), rotated: "serving", reason: servingProblem };
  }
  return { bundle: current as CertificateBundle, rotated: "none" };
}
