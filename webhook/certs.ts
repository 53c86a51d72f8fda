/**
 * Certificates of the webhook server (spec §11.5): a self-signed CA (`CN=lws-ca, O=lws`) and a serving certificate
 * it signs, their validity checks with the 90-day rotation lookahead, and PEM encoding with RSA keys in PKCS#1
 * (`RSA PRIVATE KEY`) blocks like upstream's cert-controller writes them.
 *
 * Built on `node:crypto` (Deno's Node compatibility): RSA keys are generated off the main thread and exported as
 * PKCS#1 directly, certificates are parsed and verified with `X509Certificate`, and the few DER structures of a
 * certificate are encoded here (sha256WithRSAEncryption). `@peculiar/x509` is not used: it needs a global
 * `reflect-metadata` polyfill (tsyringe). Keys are read in PKCS#1 (`RSA PRIVATE KEY`) and PKCS#8 (`PRIVATE KEY`).
 *
 * Time is always passed in (`now`), so rotation logic is tested with any clock.
 *
 * @module
 */
import { createHash, createPrivateKey, generateKeyPair, type KeyObject, sign, X509Certificate } from "node:crypto";

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
// DER encoding (just what a certificate needs)

function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return [0x80 | bytes.length, ...bytes];
}

/** A DER element: tag, length, content. */
function der(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concat(...content);
  return concat(new Uint8Array([tag, ...derLength(body.length)]), body);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const seq = (...content: Uint8Array[]) => der(0x30, ...content);
const set = (...content: Uint8Array[]) => der(0x31, ...content);
const octets = (bytes: Uint8Array) => der(0x04, bytes);
const utf8 = (text: string) => der(0x0c, new TextEncoder().encode(text));
const bool = (value: boolean) => der(0x01, new Uint8Array([value ? 0xff : 0x00]));
/** BIT STRING with `unused` padding bits in the last byte. */
const bits = (bytes: Uint8Array, unused = 0) => der(0x03, new Uint8Array([unused]), bytes);
const explicit = (n: number, content: Uint8Array) => der(0xa0 | n, content);

function oid(dotted: string): Uint8Array {
  const parts = dotted.split(".").map(Number);
  const bytes: number[] = [parts[0]! * 40 + parts[1]!];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [part & 0x7f];
    for (let n = Math.floor(part / 128); n > 0; n = Math.floor(n / 128)) chunk.unshift(0x80 | (n & 0x7f));
    bytes.push(...chunk);
  }
  return der(0x06, new Uint8Array(bytes));
}

function time(ms: number): Uint8Array {
  const iso = new Date(Math.floor(ms / 1000) * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "");
  const year = Number(iso.slice(0, 4));
  // RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
  return year < 2050
    ? der(0x17, new TextEncoder().encode(`${digits.slice(2)}Z`))
    : der(0x18, new TextEncoder().encode(`${digits}Z`));
}

function name(attributes: [string, string][]): Uint8Array {
  const OIDS: Record<string, string> = { CN: "2.5.4.3", O: "2.5.4.10" };
  return seq(...attributes.map(([type, value]) => set(seq(oid(OIDS[type]!), utf8(value)))));
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

function ipBytes(ip: string): Uint8Array {
  const v4 = ip.split(".");
  if (v4.length === 4 && v4.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) < 256)) {
    return new Uint8Array(v4.map(Number));
  }
  throw new Error(`Cannot create certificate: only IPv4 SANs are supported, got ${ip}`);
}

/** Reads one DER TLV at `offset`: its tag and content bounds. */
function readElement(bytes: Uint8Array, offset: number): { tag: number; start: number; end: number } {
  const tag = bytes[offset]!;
  let length = bytes[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[start + i]!;
    start += count;
  }
  return { tag, start, end: start + length };
}

/** SHA-1 of the subjectPublicKey bits of an SPKI (RFC 5280 key identifier method 1). */
function keyIdentifier(spki: Uint8Array): Uint8Array {
  const outer = readElement(spki, 0);
  const algorithm = readElement(spki, outer.start);
  const key = readElement(spki, algorithm.end);
  return new Uint8Array(createHash("sha1").update(spki.subarray(key.start + 1, key.end)).digest());
}

function addYears(ms: number, years: number): number {
  const date = new Date(ms);
  date.setUTCFullYear(date.getUTCFullYear() + years);
  return date.getTime();
}

const SHA256_WITH_RSA = seq(oid("1.2.840.113549.1.1.11"), der(0x05));
const KEY_USAGE_DIGITAL_SIGNATURE = 0x80;
const KEY_USAGE_KEY_ENCIPHERMENT = 0x20;
const KEY_USAGE_CERT_SIGN = 0x04;
const KEY_USAGE_CRL_SIGN = 0x02;

interface CertificateTemplate {
  subject: Uint8Array;
  issuer: Uint8Array;
  notBefore: number;
  notAfter: number;
  spki: Uint8Array;
  extensions: Uint8Array[];
}

/** Encodes and signs an X.509 v3 certificate (sha256WithRSAEncryption). */
function signCertificate(template: CertificateTemplate, signingKey: KeyObject): string {
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] = (serial[0]! & 0x7f) || 0x01; // positive, no leading zero byte
  const tbs = seq(
    explicit(0, der(0x02, new Uint8Array([2]))), // v3
    der(0x02, serial),
    SHA256_WITH_RSA,
    template.issuer,
    seq(time(template.notBefore), time(template.notAfter)),
    template.subject,
    template.spki,
    explicit(3, seq(...template.extensions)),
  );
  const signature = new Uint8Array(sign("sha256", tbs, signingKey));
  return toPem("CERTIFICATE", seq(tbs, SHA256_WITH_RSA, bits(signature)));
}

/**
 * Encodes DER as PEM with 64-character lines.
 *
 * @param label The PEM label, e.g. `CERTIFICATE`.
 * @param bytes The DER bytes.
 * @returns The PEM text, ending with a newline.
 */
export function toPem(label: string, bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

// -------------------------------------------------------------------------------------------------------------------
// Generation

interface RsaKeyPair {
  /** SPKI DER of the public key. */
  spki: Uint8Array;
  /** PKCS#1 PEM (`RSA PRIVATE KEY`). */
  pem: string;
  key: KeyObject;
}

async function generateRsaKey(): Promise<RsaKeyPair> {
  const { publicKey, privateKey } = await new Promise<{ publicKey: Uint8Array; privateKey: string }>(
    (resolve, reject) =>
      generateKeyPair("rsa", {
        modulusLength: 2048,
        publicExponent: 65537,
        publicKeyEncoding: { type: "spki", format: "der" },
        privateKeyEncoding: { type: "pkcs1", format: "pem" },
      }, (err, publicKey, privateKey) => err ? reject(err) : resolve({ publicKey, privateKey })),
  );
  return { spki: new Uint8Array(publicKey), pem: privateKey, key: createPrivateKey(privateKey) };
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
  const subject = name([["CN", CA_COMMON_NAME], ["O", CA_ORGANIZATION]]);
  const dnsName = der(0x82, new TextEncoder().encode(CA_COMMON_NAME));
  const cert = signCertificate({
    subject,
    issuer: subject,
    notBefore: now - NOT_BEFORE_SKEW_MS,
    notAfter: addYears(now, CA_VALIDITY_YEARS),
    spki: key.spki,
    extensions: [
      extension(
        "2.5.29.15",
        true,
        bits(
          new Uint8Array([
            KEY_USAGE_DIGITAL_SIGNATURE | KEY_USAGE_KEY_ENCIPHERMENT | KEY_USAGE_CERT_SIGN | KEY_USAGE_CRL_SIGN,
          ]),
          1,
        ),
      ),
      extension("2.5.29.19", true, seq(bool(true))),
      extension("2.5.29.14", false, octets(keyIdentifier(key.spki))),
      extension("2.5.29.17", false, seq(dnsName)),
    ],
  }, key.key);
  return { cert, key: key.pem };
}

/**
 * Generates a serving certificate signed by the CA: RSA 2048, the identity's CN and SANs, extended key usage
 * serverAuth, valid from `now − 1 h` to `now + 1 year`.
 *
 * @param ca The CA (certificate and key, PEM; the key in PKCS#1 or PKCS#8).
 * @param identity CN and SANs.
 * @param now The current time (ms since the epoch).
 * @returns The serving certificate and its PKCS#1 key, PEM.
 * @throws {Error} When the CA does not parse.
 */
export async function generateServingCertificate(
  ca: KeyPairPem,
  identity: ServingIdentity,
  now: number,
): Promise<KeyPairPem> {
  const caCert = new X509Certificate(ca.cert);
  const caKey = createPrivateKey(ca.key);
  const caSpki = new Uint8Array(caCert.publicKey.export({ type: "spki", format: "der" }));
  const key = await generateRsaKey();
  const names = [
    ...identity.dnsNames.map((dns) => der(0x82, new TextEncoder().encode(dns))),
    ...identity.ipAddresses.map((ip) => der(0x87, ipBytes(ip))),
  ];
  const cert = signCertificate({
    subject: name([["CN", identity.commonName]]),
    issuer: subjectOf(caCert),
    notBefore: now - NOT_BEFORE_SKEW_MS,
    notAfter: addYears(now, SERVING_VALIDITY_YEARS),
    spki: key.spki,
    extensions: [
      extension("2.5.29.15", true, bits(new Uint8Array([KEY_USAGE_DIGITAL_SIGNATURE | KEY_USAGE_KEY_ENCIPHERMENT]), 5)),
      extension("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.1"))), // serverAuth
      extension("2.5.29.19", true, seq()),
      extension("2.5.29.35", false, seq(der(0x80, keyIdentifier(caSpki)))),
      extension("2.5.29.17", false, seq(...names)),
    ],
  }, caKey);
  return { cert, key: key.pem };
}

/** The raw subject Name of a certificate (the issuer of what it signs must be byte-identical). */
function subjectOf(cert: X509Certificate): Uint8Array {
  const raw = new Uint8Array(cert.raw);
  const certificate = readElement(raw, 0);
  const tbs = readElement(raw, certificate.start);
  let offset = tbs.start;
  const fields: { start: number; end: number; tag: number }[] = [];
  while (offset < tbs.end && fields.length < 6) {
    const element = readElement(raw, offset);
    fields.push({ ...element, start: offset });
    offset = element.end;
  }
  // version [0], serial, signature algorithm, issuer, validity, subject
  const subject = fields[0]?.tag === 0xa0 ? fields[5] : fields[4];
  if (subject === undefined) throw new Error("Cannot parse CA certificate: no subject");
  return raw.slice(subject.start, subject.end);
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
 * Checks the CA: present, certificate and key match, self-signed CA for `lws-ca`, valid now and for more than 90
 * days.
 *
 * @param ca The CA (fields may be missing).
 * @param now The current time (ms since the epoch).
 * @returns Why the CA must be regenerated, or undefined when it is good.
 */
export function checkCertificateAuthority(ca: Partial<KeyPairPem>, now: number): string | undefined {
  const cert = parsePair(ca, "CA");
  if (typeof cert === "string") return cert;
  if (!cert.ca) return "CA certificate is not a CA";
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
    return {
      bundle: { caCert: ca.cert, caKey: ca.key, servingCert: serving.cert, servingKey: serving.key },
      rotated: "all",
      reason: caProblem,
    };
  }
  const ca = { cert: current!.caCert!, key: current!.caKey! };
  const servingProblem = checkServingCertificate(ca.cert, {
    cert: current?.servingCert,
    key: current?.servingKey,
  }, options);
  if (servingProblem !== undefined) {
    const serving = await generateServingCertificate(ca, identity, now);
    return {
      bundle: { caCert: ca.cert, caKey: ca.key, servingCert: serving.cert, servingKey: serving.key },
      rotated: "serving",
      reason: servingProblem,
    };
  }
  return { bundle: current as CertificateBundle, rotated: "none" };
}
