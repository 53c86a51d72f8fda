/**
 * Certificates for the local control plane, made with the `openssl` command (ECDSA P-256): one CA, leaf
 * certificates with IP/DNS SANs for serving and client auth, and the service-account signing key.
 *
 * Why `openssl` and not `@peculiar/x509` (which the product uses in `webhook/certs.ts`): the control-plane processes
 * read their certificates and keys from files, which `openssl` writes directly in the formats they expect, and it
 * ships with every Debian that has `ca-certificates`. It is a library call either way; no ASN.1 is written here.
 *
 * @module
 */
import { join } from "node:path";

/** Paths of a PEM certificate and its PEM (PKCS#8) private key. */
export interface CertFiles {
  cert: string;
  key: string;
}

/** What a leaf certificate is for. */
export interface LeafOptions {
  /** Subject in openssl form, e.g. `/CN=admin/O=system:masters` (O is the Kubernetes group). */
  subject: string;
  usage: ("server" | "client")[];
  dnsNames?: string[];
  ipAddresses?: string[];
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const command = new Deno.Command("openssl", { args, cwd, stdin: "null", stdout: "piped", stderr: "piped" });
  const output = await command.output().catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Error("Cannot make certificates: `openssl` is not installed (Debian: apt-get install openssl)");
  });
  if (!output.success) {
    throw new Error(
      `openssl ${args.join(" ")} failed (exit ${output.code}): ${new TextDecoder().decode(output.stderr).trim()}`,
    );
  }
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/**
 * Creates a self-signed CA (`<name>.crt`, `<name>.key`) valid for a year.
 *
 * @param dir where to write the files
 * @param name file name stem and common name
 * @returns the file paths
 */
export async function createCertificateAuthority(dir: string, name: string): Promise<CertFiles> {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  await openssl([
    "req",
    "-x509",
    ...EC,
    "-keyout",
    files.key,
    "-out",
    files.cert,
    "-days",
    "365",
    "-subj",
    `/CN=${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
  ], dir);
  return files;
}

/**
 * Creates a leaf certificate (`<name>.crt`, `<name>.key`) signed by `ca`, valid for a year.
 *
 * @param dir where to write the files
 * @param name file name stem
 * @param ca the signing CA
 * @param options subject, usages and SANs
 * @returns the file paths
 */
export async function createLeafCertificate(
  dir: string,
  name: string,
  ca: CertFiles,
  options: LeafOptions,
): Promise<CertFiles> {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const extensions = join(dir, `${name}.ext`);
  const sans = [
    ...(options.dnsNames ?? []).map((n) => `DNS:${n}`),
    ...(options.ipAddresses ?? []).map((ip) => `IP:${ip}`),
  ];
  const usages = options.usage.map((u) => (u === "server" ? "serverAuth" : "clientAuth"));
  await Deno.writeTextFile(
    extensions,
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      `extendedKeyUsage=${usages.join(",")}`,
      ...(sans.length > 0 ? [`subjectAltName=${sans.join(",")}`] : []),
    ].join("\n") + "\n",
  );
  await openssl(["req", "-new", ...EC, "-keyout", files.key, "-out", csr, "-subj", options.subject], dir);
  const serial = "0x" + Array.from(crypto.getRandomValues(new Uint8Array(15)), (b) => b.toString(16).padStart(2, "0"))
    .join("");
  await openssl([
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca.cert,
    "-CAkey",
    ca.key,
    "-set_serial",
    serial,
    "-days",
    "365",
    "-extfile",
    extensions,
    "-out",
    files.cert,
  ], dir);
  await Promise.all([Deno.remove(csr), Deno.remove(extensions)]);
  return files;
}

/**
 * Creates the key pair the API server signs service-account tokens with (`<name>.key`, `<name>.pub`).
 *
 * @param dir where to write the files
 * @param name file name stem
 * @returns the private key (PKCS#8 PEM) and public key (SPKI PEM) paths
 */
export async function createServiceAccountKey(
  dir: string,
  name: string,
): Promise<{ privateKey: string; publicKey: string }> {
  const privateKey = join(dir, `${name}.key`);
  const publicKey = join(dir, `${name}.pub`);
  await openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", privateKey], dir);
  await openssl(["pkey", "-in", privateKey, "-pubout", "-out", publicKey], dir);
  return { privateKey, publicKey };
}
