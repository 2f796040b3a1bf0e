// Tickets (spec §1.7) and elevation requests (spec §1.8): validation, ids, lifecycle rules and list queries over
// the MMD model's tables.

import { randomBytes, randomUUID } from "node:crypto";
import { BodyValidator } from "../odata/bodyValidation.js";
import { GraphError } from "../odata/errors.js";
import { parseQueryOptions } from "../odata/queryOptions.js";
import type { Database, SqlExecutor } from "../store/database.js";
import { EntityStore, type StoredEntity } from "../store/entityStore.js";
import { EntitySerializer } from "../odata/serializer.js";
import { buildListQuery } from "../graph/collectionQuery.js";
import { mmdModel } from "./mmdModel.js";
import { nestedError } from "./mmdErrors.js";

const entities = new EntityStore(mmdModel);
const validator = new BodyValidator(mmdModel);
const serializer = new EntitySerializer(mmdModel);
const tickets = mmdModel.entitySets.get("mmdTickets")!;
const elevations = mmdModel.entitySets.get("mmdElevationRequests")!;

/** At most this many open elevation requests per device (the documents name a limit without its value). */
export const MAX_OPEN_ELEVATIONS_PER_DEVICE = 3;
const ELEVATION_TTL_SECONDS = 7_776_000;

/** Validation errors of the generic validator become MMD's nested 400. */
function validated<T>(work: () => T): T {
  try {
    return work();
  } catch (e) {
    if (e instanceof GraphError) throw nestedError(e.status, e.message);
    throw e;
  }
}

const view = (type: "customerTicket" | "elevationRequest", e: StoredEntity) => {
  const { "@odata.type": _type, ...rest } = serializer.entity(mmdModel.entityType(type), e);
  void _type;
  return rest;
};

/** `$filter`, `$orderby`, `$top` and `$skip` of a list, run in the database like Graph's. */
async function list(db: Database, tenantId: string, set: typeof tickets, query: URLSearchParams) {
  const options = validated(() => parseQueryOptions(query, true));
  const q = validated(() =>
    buildListQuery({
      model: mmdModel,
      dialect: db.dialect,
      table: set.table,
      type: mmdModel.entityType(set.entityType),
      options,
      tenantId,
      pageSize: options.top ?? 1_000_000,
    }),
  );
  try {
    return (await entities.list(db, set.table, q)).rows;
  } catch (e) {
    if (e instanceof GraphError) throw nestedError(e.status, e.message);
    throw e;
  }
}

export const ticketId = () => `MMD-${String(Number.parseInt(randomBytes(4).toString("hex"), 16) % 10_000_000).padStart(7, "0")}-${randomBytes(4).toString("base64url").replace(/[^A-Za-z0-9]/g, "X").slice(0, 5).toUpperCase()}`;

export async function createTicket(db: Database, tenantId: string, body: unknown, now: Date) {
  const { values } = validated(() => validator.entity(mmdModel.entityType("customerTicket"), body, "create"));
  const doc = { ...values, state: "active", nextActionOwner: "Microsoft", createdDateTime: now.toISOString(), resolvedDateTime: null, attachments: [], notes: [] };
  const entity: StoredEntity = { id: ticketId(), type: "customerTicket", seq: 0, doc };
  await db.transaction((tx) => entities.insert(tx, tickets.table, tenantId, entity));
  return view("customerTicket", entity);
}

export async function listTickets(db: Database, tenantId: string, query: URLSearchParams) {
  return (await list(db, tenantId, tickets, query)).map((t) => view("customerTicket", t));
}

async function ticket(x: SqlExecutor, tenantId: string, id: string) {
  const t = await entities.get(x, tickets.table, tenantId, id);
  if (!t) throw nestedError(404, "This ticket does not exist.");
  return t;
}

export const getTicket = async (db: Database, tenantId: string, id: string) => view("customerTicket", await ticket(db, tenantId, id));

export async function addNote(db: Database, tenantId: string, id: string, body: unknown, sender: string, now: Date) {
  const text = (body as { text?: unknown } | undefined)?.text;
  if (typeof text !== "string" || text.trim() === "") throw nestedError(400, "The body must be {\"text\": \"…\"} with the note's text.");
  await db.transaction(async (tx) => {
    const t = await ticket(tx, tenantId, id);
    const notes = (t.doc.notes as { id: number }[] | undefined) ?? [];
    const at = now.toISOString();
    const note = { id: notes.reduce((m, n) => Math.max(m, n.id), 0) + 1, type: "post", renderType: "html", createdDateTime: at, modifiedDateTime: at, text, sender };
    await entities.replace(tx, tickets.table, tenantId, { ...t, doc: { ...t.doc, notes: [...notes, note] } });
  });
}

export const ticketNotes = async (db: Database, tenantId: string, id: string) => ((await ticket(db, tenantId, id)).doc.notes as unknown[]) ?? [];

/** Create bodies use PascalCase keys in the documents' example; keys are matched case-insensitively. */
function camelKeys(body: unknown): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return body;
  const names = [...mmdModel.entityType("elevationRequest").properties.keys()];
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [names.find((n) => n.toLowerCase() === k.toLowerCase()) ?? k, v]));
}

export async function createElevation(db: Database, tenantId: string, body: unknown, agentUpn: string, deviceExists: (name: string) => Promise<boolean>, now: Date) {
  const { values } = validated(() => validator.entity(mmdModel.entityType("elevationRequest"), camelKeys(body), "create"));
  const deviceName = String(values.deviceName);
  if (!(await deviceExists(deviceName))) throw nestedError(404, "This device does not exist.");
  return db.transaction(async (tx) => {
    const open = await entities.list(tx, elevations.table, {
      tenantId,
      where: (params) => {
        params.push(deviceName);
        const device = tx.dialect.compareText("p_device_name", "=", tx.dialect.param(params.length));
        return `${device} AND p_request_closure_time IS NULL`;
      },
      orderBy: [], top: MAX_OPEN_ELEVATIONS_PER_DEVICE, skip: 0, count: false,
    });
    if (open.rows.length >= MAX_OPEN_ELEVATIONS_PER_DEVICE) throw nestedError(403, "This device has too many open elevation requests.");
    const at = now.toISOString();
    const doc = {
      ...values,
      tenantId,
      partnerId: null,
      requestingAgentUpn: agentUpn,
      actionsTaken: null,
      closingAgentUpn: null,
      requestCreationTime: at,
      requestClosureTime: null,
      requestRenewTime: null,
      isSuccessfulRequest: null,
      viewerUpns: [],
      passwordLastUpdatedTime: at,
      isDeleted: false,
      ttl: ELEVATION_TTL_SECONDS,
      eTag: null,
      // The device's local admin password for this elevation; only elevationDetails shows it.
      _localAdminPassword: randomBytes(12).toString("base64url"),
    };
    const entity: StoredEntity = { id: randomUUID(), type: "elevationRequest", seq: 0, doc };
    await entities.insert(tx, elevations.table, tenantId, entity);
    return view("elevationRequest", entity);
  });
}

export async function closeElevation(db: Database, tenantId: string, id: string, body: unknown, agentUpn: string, now: Date) {
  const actions = Object.entries((body ?? {}) as Record<string, unknown>).find(([k]) => k.toLowerCase() === "actionstaken")?.[1];
  if (typeof actions !== "string") throw nestedError(400, "The body must be {\"ActionsTaken\": \"…\"}.");
  await db.transaction(async (tx) => {
    const e = await entities.get(tx, elevations.table, tenantId, id);
    if (!e) throw nestedError(404, "This elevation request does not exist.");
    if (e.doc.requestClosureTime) throw nestedError(400, "This elevation request was already closed.");
    await entities.replace(tx, elevations.table, tenantId, { ...e, doc: { ...e.doc, actionsTaken: actions, closingAgentUpn: agentUpn, requestClosureTime: now.toISOString(), isSuccessfulRequest: true } });
  });
}

export async function listElevations(db: Database, tenantId: string, query: URLSearchParams) {
  return (await list(db, tenantId, elevations, query)).map((e) => view("elevationRequest", e));
}

/** The local admin account of a device with an open elevation request (spec §1.8). */
export async function elevationDetails(db: Database, tenantId: string, deviceName: string, aadDeviceId: string) {
  const { rows } = await entities.list(db, elevations.table, {
    tenantId,
    where: (params) => (params.push(deviceName), `${db.dialect.compareText("p_device_name", "=", db.dialect.param(params.length))} AND p_request_closure_time IS NULL`),
    orderBy: [], top: 1, skip: 0, count: false,
  });
  const open = rows[0];
  if (!open) throw nestedError(404, "This device has no open elevation request.");
  return {
    tenantId,
    deviceName,
    openedElevationRequestId: open.id,
    aadDeviceId,
    accountUpn: `${deviceName}\\MmdAdmin`,
    password: open.doc._localAdminPassword,
    passwordLastUpdated: open.doc.passwordLastUpdatedTime,
    status: "PasswordSucceeded",
    isPasswordChanged: true,
    viewedBy: open.doc.viewerUpns ?? [],
  };
}
