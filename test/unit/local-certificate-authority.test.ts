import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { createServer, request, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ensureLocalCertificateAuthority,
  ensureServerCertificate,
  issueServerCertificate,
  type LocalCertificateAuthority,
} from "../../src/server/localCertificateAuthority.js";

const DAY_MS = 24 * 60 * 60 * 1000;

interface RequestTarget {
  hostname: string;
  port: number;
  ca?: string;
  /** The name the certificate is checked against, when it differs from the address dialled. */
  servername?: string;
}

/** GET / over HTTPS; resolves with the body, rejects with the TLS error. */
function get({ hostname, port, ca, servername }: RequestTarget): Promise<string> {
  return new Promise((resolve, reject) => {
    // family 4: the server listens on 127.0.0.1 only, and "localhost" may resolve to ::1 first.
    const req = request({ hostname, port, path: "/", method: "GET", family: 4, agent: false, ...(ca ? { ca } : {}), ...(servername ? { servername } : {}) }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("local certificate authority", () => {
  let dir: string;
  let ca: LocalCertificateAuthority;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "allot-ca-"));
    ca = await ensureLocalCertificateAuthority(dir);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("creates a 10-year RSA CA stored as ca.pem and ca-key.pem", async () => {
    assert.equal(ca.caCertPath, join(dir, "ca.pem"));
    const cert = new X509Certificate(ca.caCertPem);
    assert.equal(cert.ca, true);
    assert.match(cert.subject, /CN=Allot Local Development CA/);
    assert.equal(cert.subject, cert.issuer);
    assert.equal(cert.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.ok(cert.verify(cert.publicKey));
    const years = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / (365.25 * DAY_MS);
    assert.ok(years > 9.9 && years < 10.1, `validity ${years} years`);
    assert.match(ca.caKeyPem, /-----BEGIN PRIVATE KEY-----/);
    if (process.platform !== "win32") {
      assert.equal((await stat(join(dir, "ca-key.pem"))).mode & 0o777, 0o600);
    }
  });

  it("reuses the CA files when present", async () => {
    const again = await ensureLocalCertificateAuthority(dir);
    assert.equal(again.caCertPem, ca.caCertPem);
    assert.equal(again.caKeyPem, ca.caKeyPem);
  });

  it("issues a server certificate with DNS and IP subject alternative names", () => {
    const { certPem, keyPem } = issueServerCertificate(ca, ["localhost", "127.0.0.1", "::1", "allot.test"]);
    const cert = new X509Certificate(certPem);
    const caCert = new X509Certificate(ca.caCertPem);
    assert.equal(cert.ca, false);
    assert.ok(cert.checkIssued(caCert));
    assert.ok(cert.verify(caCert.publicKey));
    assert.match(cert.subjectAltName ?? "", /DNS:localhost/);
    assert.match(cert.subjectAltName ?? "", /IP Address:127\.0\.0\.1/);
    assert.match(cert.subjectAltName ?? "", /DNS:allot\.test/);
    assert.doesNotMatch(cert.subjectAltName ?? "", /DNS:127/);
    assert.ok(cert.checkIP("::1"));
    assert.deepEqual(cert.keyUsage, ["1.3.6.1.5.5.7.3.1"]); // serverAuth
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / DAY_MS;
    assert.equal(days, 825);
    assert.match(keyPem, /-----BEGIN PRIVATE KEY-----/);
    assert.notEqual(issueServerCertificate(ca, ["localhost"]).certPem, certPem);
    const serials = new Set([cert.serialNumber, new X509Certificate(issueServerCertificate(ca, ["localhost"]).certPem).serialNumber]);
    assert.equal(serials.size, 2);
  });

  describe("over real HTTPS", () => {
    let server: Server;
    let port: number;

    before(async () => {
      const { certPem, keyPem } = await ensureServerCertificate(dir, ["localhost", "127.0.0.1"]);
      server = createServer({ cert: certPem, key: keyPem }, (_req, res) => res.end("allot"));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      port = (server.address() as AddressInfo).port;
    });

    after(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it("is trusted by IP address when the client trusts only the CA", async () => {
      assert.equal(await get({ hostname: "127.0.0.1", port, ca: ca.caCertPem }), "allot");
    });

    it("is trusted by the localhost hostname when the client trusts only the CA", async () => {
      assert.equal(await get({ hostname: "localhost", port, ca: ca.caCertPem }), "allot");
    });

    it("is refused by a client that does not trust the CA", async () => {
      await assert.rejects(get({ hostname: "127.0.0.1", port }), (error: NodeJS.ErrnoException) => {
        assert.match(error.code ?? "", /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER_CERT/);
        return true;
      });
    });

    it("is refused for a name the certificate does not cover", async () => {
      await assert.rejects(get({ hostname: "127.0.0.1", port, ca: ca.caCertPem, servername: "allot.test" }), {
        code: "ERR_TLS_CERT_ALTNAME_INVALID",
      });
    });

    it("is refused by a client that trusts a different Allot CA", async () => {
      const other = await mkdtemp(join(tmpdir(), "allot-ca-other-"));
      try {
        const stranger = await ensureLocalCertificateAuthority(other);
        await assert.rejects(get({ hostname: "127.0.0.1", port, ca: stranger.caCertPem }));
      } finally {
        await rm(other, { recursive: true, force: true });
      }
    });
  });

  describe("ensureServerCertificate", () => {
    it("stores the leaf as server.pem and server-key.pem and reuses it", async () => {
      const first = await ensureServerCertificate(dir, ["localhost", "127.0.0.1"]);
      assert.equal(first.certPath, join(dir, "server.pem"));
      assert.equal(first.keyPath, join(dir, "server-key.pem"));
      if (process.platform !== "win32") {
        assert.equal((await stat(first.keyPath)).mode & 0o777, 0o600);
      }
      // Same names in another order and spelling are the same certificate.
      const again = await ensureServerCertificate(dir, ["127.0.0.1", "LOCALHOST", "localhost"]);
      assert.equal(again.certPem, first.certPem);
      assert.equal(again.keyPem, first.keyPem);
    });

    it("re-issues when the hostnames differ", async () => {
      const first = await ensureServerCertificate(dir, ["localhost", "127.0.0.1"]);
      const widened = await ensureServerCertificate(dir, ["localhost", "127.0.0.1", "allot.test"]);
      assert.notEqual(widened.certPem, first.certPem);
      assert.match(new X509Certificate(widened.certPem).subjectAltName ?? "", /DNS:allot\.test/);
      const narrowed = await ensureServerCertificate(dir, ["localhost"]);
      assert.notEqual(narrowed.certPem, widened.certPem);
      assert.doesNotMatch(new X509Certificate(narrowed.certPem).subjectAltName ?? "", /allot\.test|127/);
    });

    it("re-issues when the certificate expires within 30 days", async () => {
      const other = await mkdtemp(join(tmpdir(), "allot-ca-expiry-"));
      try {
        const now = new Date();
        const old = await ensureServerCertificate(other, ["localhost"], new Date(now.getTime() - 800 * DAY_MS));
        assert.ok(Date.parse(new X509Certificate(old.certPem).validTo) - now.getTime() < 30 * DAY_MS);
        const renewed = await ensureServerCertificate(other, ["localhost"], now);
        assert.notEqual(renewed.certPem, old.certPem);
        assert.ok(Date.parse(new X509Certificate(renewed.certPem).validTo) - now.getTime() > 800 * DAY_MS);
        assert.equal((await ensureServerCertificate(other, ["localhost"], now)).certPem, renewed.certPem);
      } finally {
        await rm(other, { recursive: true, force: true });
      }
    });

    it("re-issues when the CA has changed", async () => {
      const other = await mkdtemp(join(tmpdir(), "allot-ca-swap-"));
      try {
        const leaf = await ensureServerCertificate(other, ["localhost"]);
        await rm(join(other, "ca.pem"));
        await rm(join(other, "ca-key.pem"));
        const reissued = await ensureServerCertificate(other, ["localhost"]);
        assert.notEqual(reissued.certPem, leaf.certPem);
        const newCa = await ensureLocalCertificateAuthority(other);
        assert.ok(new X509Certificate(reissued.certPem).checkIssued(new X509Certificate(newCa.caCertPem)));
      } finally {
        await rm(other, { recursive: true, force: true });
      }
    });
  });
});
