// Tenants, app registrations and the token signing keys: the rows identity needs, on either backend.

import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { SigningKeyRecord, SigningKeyRepository } from "../identity/signingKeys.js";
import type { Database, SqlExecutor } from "./database.js";

export interface TenantRecord {
  id: string;
  displayName: string;
  /** The tenant's initial domain, e.g. contoso.onmicrosoft.com. */
  domain: string;
  /** Microsoft Managed Desktop personas enabled for the tenant, in the order MMD lists them. */
  mmdEnabledPersonas?: string[];
  /** The legacy tenant switch of assignment filters (`assignmentFilters/enable`); on unless turned off. */
  assignmentFiltersEnabled?: boolean;
}

export interface StoredSecret {
  /** The credential's id (Entra's `keyId`), to remove it by. */
  keyId: string;
  /** First three characters, as Entra shows them (`hint`). */
  hint: string;
  salt: string;
  sha256: string;
}

export interface AppRegistration {
  tenantId: string;
  appId: string;
  displayName: string;
  /** The app's service principal object id (the token's `oid`). */
  objectId: string;
  secrets: StoredSecret[];
  /** Application permissions granted (the token's `roles`). */
  roles: string[];
  /** Delegated permissions consented for the app (the most a user token's `scp` can carry). */
  delegatedScopes: string[];
  /** A public client may sign users in without a client secret (password grant). */
  publicClient: boolean;
}

const parseDoc = <T>(raw: unknown): T => (typeof raw === "string" ? JSON.parse(raw) : raw) as T;

/** Client secrets are random and long, so a salted SHA-256 is enough to keep them out of the store in clear. */
export function hashSecret(secret: string): StoredSecret {
  const salt = randomBytes(16).toString("base64url");
  return { keyId: randomUUID(), hint: secret.slice(0, 3), salt, sha256: createHash("sha256").update(salt + secret).digest("base64url") };
}

export function secretMatches(stored: StoredSecret, candidate: string): boolean {
  const a = Buffer.from(createHash("sha256").update(stored.salt + candidate).digest("base64url"));
  const b = Buffer.from(stored.sha256);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class IdentityStore implements SigningKeyRepository {
  constructor(private readonly db: Database) {}

  private p(n: number) {
    return this.db.dialect.param(n);
  }

  async getTenant(id: string, x: SqlExecutor = this.db): Promise<TenantRecord | undefined> {
    const [row] = await x.all(`SELECT doc FROM tenants WHERE id = ${this.p(1)}`, [id.toLowerCase()]);
    return row ? parseDoc<TenantRecord>(row.doc) : undefined;
  }

  async listTenants(): Promise<TenantRecord[]> {
    return (await this.db.all("SELECT doc FROM tenants ORDER BY id")).map((r) => parseDoc<TenantRecord>(r.doc));
  }

  async putTenant(t: TenantRecord, x: SqlExecutor = this.db): Promise<void> {
    await x.run(
      `INSERT INTO tenants (id, doc) VALUES (${this.p(1)}, ${this.p(2)}) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc`,
      [t.id, JSON.stringify(t)],
    );
  }

  async deleteTenant(id: string, x: SqlExecutor = this.db): Promise<void> {
    await x.run(`DELETE FROM app_registrations WHERE tenant_id = ${this.p(1)}`, [id]);
    await x.run(`DELETE FROM tenants WHERE id = ${this.p(1)}`, [id]);
  }

  async getApp(tenantId: string, appId: string, x: SqlExecutor = this.db): Promise<AppRegistration | undefined> {
    const [row] = await x.all(`SELECT doc FROM app_registrations WHERE tenant_id = ${this.p(1)} AND app_id = ${this.p(2)}`, [
      tenantId.toLowerCase(),
      appId.toLowerCase(),
    ]);
    return row ? parseDoc<AppRegistration>(row.doc) : undefined;
  }

  async listApps(tenantId: string, x: SqlExecutor = this.db): Promise<AppRegistration[]> {
    const rows = await x.all(`SELECT doc FROM app_registrations WHERE tenant_id = ${this.p(1)} ORDER BY app_id`, [tenantId.toLowerCase()]);
    return rows.map((r) => parseDoc<AppRegistration>(r.doc));
  }

  async deleteApp(tenantId: string, appId: string, x: SqlExecutor = this.db): Promise<boolean> {
    const r = await x.run(`DELETE FROM app_registrations WHERE tenant_id = ${this.p(1)} AND app_id = ${this.p(2)}`, [tenantId.toLowerCase(), appId.toLowerCase()]);
    return r.changes > 0;
  }

  async putApp(app: AppRegistration, x: SqlExecutor = this.db): Promise<void> {
    await x.run(
      `INSERT INTO app_registrations (tenant_id, app_id, doc) VALUES (${this.p(1)}, ${this.p(2)}, ${this.p(3)})
       ON CONFLICT (tenant_id, app_id) DO UPDATE SET doc = excluded.doc`,
      [app.tenantId, app.appId, JSON.stringify(app)],
    );
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return (await this.db.all("SELECT doc FROM signing_keys ORDER BY created_at")).map((r) => parseDoc<SigningKeyRecord>(r.doc));
  }

  async insertSigningKey(key: SigningKeyRecord): Promise<void> {
    await this.db.run(`INSERT INTO signing_keys (kid, created_at, doc) VALUES (${this.p(1)}, ${this.p(2)}, ${this.p(3)})`, [
      key.kid,
      key.createdAt,
      JSON.stringify(key),
    ]);
  }
}
