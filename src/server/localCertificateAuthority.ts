// A private CA for `allot serve --https` (and the HTTPS proxy mode): users trust ca.pem once, and every server
// certificate Allot issues afterwards is accepted by SDKs and browsers without disabling verification.
// Keys come from Node's crypto (forge's pure-JS RSA generation takes seconds); forge only builds and signs.

import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import forge from "node-forge";

export interface LocalCertificateAuthority {
  caCertPath: string;
  caCertPem: string;
  caKeyPem: string;
}

export interface ServerCertificate {
  certPem: string;
  keyPem: string;
}

export interface StoredServerCertificate extends ServerCertificate {
  certPath: string;
  keyPath: string;
}

const CA_COMMON_NAME = "Allot Local Development CA";
const CA_VALIDITY_YEARS = 10;
/** Apple platforms reject TLS server certificates valid for longer than 825 days. */
const SERVER_VALIDITY_DAYS = 825;
const RENEW_BEFORE_DAYS = 30;
/** Back-dating notBefore tolerates a client clock running slightly behind. */
const BACKDATE_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

const CA_CERT_FILE = "ca.pem";
const CA_KEY_FILE = "ca-key.pem";

export async function ensureLocalCertificateAuthority(dir: string, now: Date = new Date()): Promise<LocalCertificateAuthority> {
  const caCertPath = join(dir, CA_CERT_FILE);
  const caKeyPath = join(dir, CA_KEY_FILE);
  const existing = await readPair(caCertPath, caKeyPath);
  if (existing && isUsableCertificate(existing.certPem, existing.keyPem, now)) {
    return { caCertPath, caCertPem: existing.certPem, caKeyPem: existing.keyPem };
  }

  const { certPem, keyPem } = createCertificateAuthority(now);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Key first: a cert without its key would be kept on the next run but be useless.
  await writeFileAtomically(caKeyPath, keyPem, 0o600);
  await writeFileAtomically(caCertPath, certPem, 0o644);
  return { caCertPath, caCertPem: certPem, caKeyPem: keyPem };
}

export function issueServerCertificate(
  ca: Pick<LocalCertificateAuthority, "caCertPem" | "caKeyPem">,
  hostnames: string[],
  now: Date = new Date(),
): ServerCertificate {
  const names = normalizeHostnames(hostnames);
  if (names.length === 0) throw new Error("A server certificate needs at least one hostname or IP address.");
  const caCert = forge.pki.certificateFromPem(ca.caCertPem);
  const caKey = forge.pki.privateKeyFromPem(ca.caKeyPem);
  const { publicKey, keyPem } = generateRsaKey();

  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerialNumber();
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(cert.validity.notBefore.getTime() + SERVER_VALIDITY_DAYS * DAY_MS);
  cert.setSubject([
    { name: "commonName", value: names[0]!.slice(0, 64) },
    { name: "organizationName", value: "Allot" },
  ]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: names.map((name) => (isIP(name) ? { type: 7, ip: name } : { type: 2, value: name })),
    },
    { name: "subjectKeyIdentifier" },
    // Explicit bytes: forge's `keyIdentifier: true` would hash the leaf's own key, not the issuer's.
    { name: "authorityKeyIdentifier", keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

/**
 * The server certificate in `dir` (`{name}.pem` and `{name}-key.pem`: `server` for --https, `proxy` for the proxy
 * mode), re-issued when the names changed, the CA changed, or it expires within 30 days.
 */
export async function ensureServerCertificate(
  dir: string,
  hostnames: string[],
  now: Date = new Date(),
  name = "server",
): Promise<StoredServerCertificate> {
  const ca = await ensureLocalCertificateAuthority(dir, now);
  const certPath = join(dir, `${name}.pem`);
  const keyPath = join(dir, `${name}-key.pem`);
  const existing = await readPair(certPath, keyPath);
  if (existing && isCurrentServerCertificate(existing, ca.caCertPem, normalizeHostnames(hostnames), now)) {
    return { certPath, keyPath, ...existing };
  }

  const issued = issueServerCertificate(ca, hostnames, now);
  await writeFileAtomically(keyPath, issued.keyPem, 0o600);
  await writeFileAtomically(certPath, issued.certPem, 0o644);
  return { certPath, keyPath, ...issued };
}

/** A CA that lives only in memory (`--in-memory`): nothing is written, so it is new on every start. */
export function inMemoryCertificateAuthority(now: Date = new Date()): Pick<LocalCertificateAuthority, "caCertPem" | "caKeyPem"> {
  const { certPem, keyPem } = createCertificateAuthority(now);
  return { caCertPem: certPem, caKeyPem: keyPem };
}

function createCertificateAuthority(now: Date): ServerCertificate {
  const { publicKey, privateKey, keyPem } = generateRsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerialNumber();
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(now.getTime());
  cert.validity.notAfter.setUTCFullYear(cert.validity.notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const subject = [
    { name: "commonName", value: CA_COMMON_NAME },
    { name: "organizationName", value: "Allot" },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

function generateRsaKey(): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey; keyPem: string } {
  const pair = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  return {
    publicKey: forge.pki.publicKeyFromPem(pair.publicKey),
    privateKey: forge.pki.privateKeyFromPem(pair.privateKey),
    keyPem: pair.privateKey,
  };
}

/** 16 random bytes as a positive DER INTEGER without a leading zero byte (strict parsers reject one). */
function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString("hex");
}

function normalizeHostnames(hostnames: string[]): string[] {
  const names = hostnames.map(normalizeHostname).filter((name) => name !== "");
  return [...new Set(names)];
}

function normalizeHostname(name: string): string {
  const bare = name.trim().replace(/^\[(.*)\]$/, "$1").toLowerCase();
  // One spelling per IPv6 address, so "::1" and "0:0:0:0:0:0:0:1" compare equal.
  return isIP(bare) === 6 ? new URL(`http://[${bare}]`).hostname.slice(1, -1) : bare;
}

interface AltName {
  type: number;
  value?: string;
  ip?: string;
}

function subjectAltNames(certPem: string): string[] {
  const extension: unknown = forge.pki.certificateFromPem(certPem).getExtension("subjectAltName");
  const altNames: unknown = extension && typeof extension === "object" && "altNames" in extension ? extension.altNames : [];
  if (!Array.isArray(altNames)) return [];
  return (altNames as AltName[]).flatMap((altName) => {
    if (altName.type === 7 && altName.ip !== undefined) return [normalizeHostname(altName.ip)];
    if (altName.type === 2 && altName.value !== undefined) return [normalizeHostname(altName.value)];
    return [];
  });
}

function sameNames(a: string[], b: string[]): boolean {
  const left = [...new Set(a)].sort();
  const right = [...new Set(b)].sort();
  return left.length === right.length && left.every((name, index) => name === right[index]);
}

function isUsableCertificate(certPem: string, keyPem: string, now: Date): boolean {
  try {
    const cert = new X509Certificate(certPem);
    return cert.checkPrivateKey(createPrivateKey(keyPem)) && Date.parse(cert.validTo) > now.getTime();
  } catch {
    return false;
  }
}

function isCurrentServerCertificate(existing: ServerCertificate, caCertPem: string, names: string[], now: Date): boolean {
  if (!isUsableCertificate(existing.certPem, existing.keyPem, new Date(now.getTime() + RENEW_BEFORE_DAYS * DAY_MS))) {
    return false;
  }
  try {
    const cert = new X509Certificate(existing.certPem);
    const ca = new X509Certificate(caCertPem);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
    return sameNames(subjectAltNames(existing.certPem), names);
  } catch {
    return false;
  }
}

async function readPair(certPath: string, keyPath: string): Promise<ServerCertificate | undefined> {
  try {
    return { certPem: await readFile(certPath, "utf8"), keyPem: await readFile(keyPath, "utf8") };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Write-then-rename so a concurrent reader never sees half a PEM; the mode is set on the temporary file. */
async function writeFileAtomically(path: string, contents: string, mode: number): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temporary, contents, { mode });
  await rename(temporary, path);
}
