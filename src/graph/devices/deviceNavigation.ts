// The links between managed devices and what points at them, as navigation providers: a script run state's
// `managedDevice`, a device's `users` (its primary user) and `detectedApps`, a user's `managedDevices`, and a
// detected app's `managedDevices`. Run states and apps keep their device ids in underscore fields of their
// documents (`_managedDeviceId`, `_managedDeviceIds`), set by `…@odata.bind` on create; a device's primary user is
// its own userId (else its userPrincipalName).

import type { CompiledModel, StorageTable } from "../../odata/compiledModel.js";
import { badRequest } from "../../odata/errors.js";
import type { SqlExecutor } from "../../store/database.js";
import { propertySql } from "../../store/derivedColumns.js";
import type { StoredEntity } from "../../store/entityStore.js";
import type { EntityBehaviour, GraphContext, NavigationProvider, ProvidedEntity, ProviderPage, ProviderPageRequest } from "../graphContext.js";

/** The one table that stores entities of this type (run states and detected apps each have exactly one). */
function tableOf(model: CompiledModel, typeName: string): StorageTable {
  const type = model.entityType(typeName);
  const tables = model.tables.filter((t) => model.isAssignable(type, t.entityType));
  if (tables.length !== 1) throw new Error(`expected one table for ${typeName}, found ${tables.length}`);
  return tables[0];
}

const page = (items: ProvidedEntity[], req: ProviderPageRequest): ProviderPage => {
  const typed = req.types ? items.filter((i) => req.types!.includes(i.entity.type)) : items;
  return { items: typed.slice(req.offset, req.offset + req.top), count: req.count ? typed.length : undefined, hasMore: typed.length > req.offset + req.top };
};

export function deviceNavigationProviders(model: CompiledModel): Record<string, NavigationProvider> {
  const managedDevices = model.entityType("deviceManagement").navigation.get("managedDevices")!.table!;
  const users = model.entitySets.get("users")!.table;
  const detectedApps = model.entityType("deviceManagement").navigation.get("detectedApps")!.table!;
  const provided = (ctx: GraphContext, entity: StoredEntity, table: StorageTable): ProvidedEntity => ({ entity, type: ctx.model.entityType(entity.type), table });

  const existingDevice = async (ctx: GraphContext, x: SqlExecutor, id: string) => {
    const device = await ctx.entities.get(x, managedDevices, ctx.tenantId, id);
    if (!device) throw badRequest(`No managed device with id '${id}' exists in this tenant.`);
    return device;
  };
  /** Changes the document of the entity being created (the caller's object too, so its 201 body shows it). */
  const relink = async (ctx: GraphContext, tx: SqlExecutor, entity: StoredEntity, changes: Record<string, unknown>) => {
    Object.assign(entity.doc, changes);
    await ctx.entities.replace(tx, tableOf(ctx.model, entity.type), ctx.tenantId, entity);
  };

  const runStateDevice = async (ctx: GraphContext, x: SqlExecutor, runState: StoredEntity) => {
    const id = runState.doc._managedDeviceId;
    if (typeof id !== "string") return undefined;
    const device = await ctx.entities.get(x, managedDevices, ctx.tenantId, id);
    return device ? provided(ctx, device, managedDevices) : undefined;
  };

  const primaryUser = async (ctx: GraphContext, x: SqlExecutor, device: StoredEntity) => {
    const { userId, userPrincipalName } = device.doc;
    const user =
      typeof userId === "string" && userId !== ""
        ? await ctx.entities.get(x, users, ctx.tenantId, userId)
        : typeof userPrincipalName === "string" && userPrincipalName !== ""
          ? (await ctx.entities.findBy(x, users, ctx.tenantId, "userPrincipalName", userPrincipalName))[0]
          : undefined;
    return user ? provided(ctx, user, users) : undefined;
  };

  const linkedDevices = async (ctx: GraphContext, x: SqlExecutor, app: StoredEntity) => {
    const ids = Array.isArray(app.doc._managedDeviceIds) ? (app.doc._managedDeviceIds as string[]) : [];
    const found = await ctx.entities.getMany(x, managedDevices, ctx.tenantId, ids);
    return ids.flatMap((id) => (found.has(id) ? [provided(ctx, found.get(id)!, managedDevices)] : []));
  };

  return {
    runStateManagedDevice: {
      single: runStateDevice,
      async list(ctx, x, runState, req) {
        const device = await runStateDevice(ctx, x, runState);
        return page(device ? [device] : [], req);
      },
      async get(ctx, x, runState, id) {
        const device = await runStateDevice(ctx, x, runState);
        return device?.entity.id === id ? device : undefined;
      },
      async addReference(ctx, tx, runState, deviceId) {
        const device = await existingDevice(ctx, tx, deviceId);
        await relink(ctx, tx, runState, { _managedDeviceId: device.id });
      },
    },
    managedDeviceUsers: {
      async list(ctx, x, device, req) {
        const user = await primaryUser(ctx, x, device);
        return page(user ? [user] : [], req);
      },
      async get(ctx, x, device, id) {
        const user = await primaryUser(ctx, x, device);
        return user && user.entity.id.toLowerCase() === id.toLowerCase() ? user : undefined;
      },
    },
    userManagedDevices: {
      async list(ctx, x, user, req) {
        const column = propertySql(x.dialect, managedDevices, "userId");
        const where = (params: unknown[]) => (params.push(user.id), x.dialect.compareText(column, "=", x.dialect.param(params.length)));
        const { rows, count } = await ctx.entities.list(x, managedDevices, { tenantId: ctx.tenantId, where, types: req.types, orderBy: [], top: req.top + 1, skip: req.offset, count: req.count });
        return { items: rows.slice(0, req.top).map((d) => provided(ctx, d, managedDevices)), count, hasMore: rows.length > req.top };
      },
      async get(ctx, x, user, id) {
        const device = await ctx.entities.get(x, managedDevices, ctx.tenantId, id);
        return device && device.doc.userId === user.id ? provided(ctx, device, managedDevices) : undefined;
      },
    },
    managedDeviceDetectedApps: {
      async list(ctx, x, device, req) {
        const where = (params: unknown[]) => (
          params.push(device.id), x.dialect.jsonArrayAny("doc", "_managedDeviceIds", (e) => x.dialect.compareText(e, "=", x.dialect.param(params.length)))
        );
        const { rows, count } = await ctx.entities.list(x, detectedApps, { tenantId: ctx.tenantId, where, types: req.types, orderBy: [], top: req.top + 1, skip: req.offset, count: req.count });
        return { items: rows.slice(0, req.top).map((a) => provided(ctx, a, detectedApps)), count, hasMore: rows.length > req.top };
      },
      async get(ctx, x, device, id) {
        const app = await ctx.entities.get(x, detectedApps, ctx.tenantId, id);
        const linked = Array.isArray(app?.doc._managedDeviceIds) && (app.doc._managedDeviceIds as string[]).includes(device.id);
        return app && linked ? provided(ctx, app, detectedApps) : undefined;
      },
    },
    detectedAppManagedDevices: {
      async list(ctx, x, app, req) {
        return page(await linkedDevices(ctx, x, app), req);
      },
      async get(ctx, x, app, id) {
        return (await linkedDevices(ctx, x, app)).find((d) => d.entity.id === id);
      },
      async addReference(ctx, tx, app, deviceId) {
        const device = await existingDevice(ctx, tx, deviceId);
        const ids = Array.isArray(app.doc._managedDeviceIds) ? (app.doc._managedDeviceIds as string[]) : [];
        if (ids.includes(device.id)) return;
        await relink(ctx, tx, app, { _managedDeviceIds: [...ids, device.id], deviceCount: ids.length + 1 });
      },
    },
  };
}

/** A detected app starts on no device (its deviceCount follows the devices bound to it). */
export const detectedAppBehaviour: EntityBehaviour = {
  async validate(_ctx, _tx, draft, before) {
    if (!before) draft.doc.deviceCount = 0;
  },
};
