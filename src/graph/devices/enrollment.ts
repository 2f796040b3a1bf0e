// Enrolling a device (POST /_allot/devices): the managed device, its Entra device and, when asked, its Autopilot
// identity, created together and linked by ids and serial number, so one device is visible consistently through
// all three collections and dynamic groups pick it up at once.

import { randomBytes, randomUUID } from "node:crypto";
import { badRequest } from "../../odata/errors.js";
import type { StoredEntity } from "../../store/entityStore.js";
import { storeNewEntity } from "../entityWrites.js";
import { enrolledIdentityDocument } from "./autopilotIdentityDocument.js";
import { notifyManagedDeviceChanges, type GraphContext } from "../graphContext.js";

export interface EnrolledIds {
  managedDeviceId: string;
  azureADDeviceId: string;
  entraObjectId: string;
  autopilotDeviceId?: string;
}

const digits = (n: number) => Array.from(randomBytes(n), (b) => String(b % 10)).join("");
const letters = (n: number) => Array.from(randomBytes(n), (b) => "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"[b % 32]).join("");

/** Realistic values for what an enrollment leaves out (a Windows laptop, company owned, Entra joined). */
export function enrollmentDefaults(now: string): Record<string, unknown> {
  return {
    deviceName: `DESKTOP-${letters(7)}`,
    operatingSystem: "Windows",
    osVersion: "10.0.22631.4460",
    model: "Surface Laptop 5",
    manufacturer: "Microsoft Corporation",
    serialNumber: digits(12),
    managedDeviceOwnerType: "company",
    ownerType: "company",
    joinType: "azureADJoined",
    skuFamily: "Enterprise",
    skuNumber: 4,
    deviceCategoryDisplayName: "Unknown",
    processorArchitecture: "x64",
    complianceState: "compliant",
    managementAgent: "mdm",
    managementState: "managed",
    deviceEnrollmentType: "windowsAzureADJoin",
    deviceRegistrationState: "registered",
    deviceType: "desktop",
    azureADRegistered: true,
    isEncrypted: true,
    isSupervised: false,
    jailBroken: "Unknown",
    managementFeatures: "none",
    enrolledDateTime: now,
    lastSyncDateTime: now,
    totalStorageSpaceInBytes: 255_000_000_000,
    freeStorageSpaceInBytes: 180_000_000_000,
    physicalMemoryInBytes: 16 * 1024 ** 3,
    wiFiMacAddress: randomBytes(6).toString("hex").toUpperCase(),
    roleScopeTagIds: ["0"],
    deviceActionResults: [],
    autopilotEnrolled: false,
    enrollmentProfileName: null,
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export async function enrollDevice(ctx: GraphContext, body: unknown): Promise<EnrolledIds> {
  if (!isObject(body)) throw badRequest("The body must be a JSON object of managedDevice properties.");
  const managedType = ctx.model.entityType("windowsManagedDevice");
  const { autopilot, ...properties } = body;
  if (autopilot !== undefined && !isObject(autopilot)) throw badRequest("'autopilot' must be an object, e.g. {\"groupTag\": \"…\"}.");
  const groupTag = autopilot?.groupTag;
  if (groupTag !== undefined && typeof groupTag !== "string") throw badRequest("'autopilot.groupTag' must be a string.");
  const now = ctx.clock.now().toISOString();
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(properties)) {
    const decl = managedType.properties.get(name);
    if (!decl || name === "id" || name === "deviceActionResults") throw badRequest(`'${name}' is not a managedDevice property that enrollment accepts.`);
    values[name] = ctx.validator.value({ ...decl, readOnly: false }, value, name);
  }
  const doc: Record<string, unknown> = { ...enrollmentDefaults(now), ...values };
  if (autopilot) {
    doc.autopilotEnrolled = true;
    doc.enrollmentProfileName ??= "Autopilot";
  }
  const ids: EnrolledIds = { managedDeviceId: randomUUID(), azureADDeviceId: randomUUID(), entraObjectId: randomUUID(), ...(autopilot ? { autopilotDeviceId: randomUUID() } : {}) };
  doc.azureADDeviceId = ids.azureADDeviceId;
  doc.azureActiveDirectoryDeviceId = ids.azureADDeviceId;
  doc.managedDeviceName = `${doc.userPrincipalName ? String(doc.userPrincipalName).split("@")[0] : "userless"}_Windows_${now.slice(0, 10)}`;

  const tables = {
    managed: ctx.model.entityType("deviceManagement").navigation.get("managedDevices")!.table!,
    entra: ctx.model.entitySets.get("devices")!.table,
    autopilot: ctx.model.entityType("deviceManagement").navigation.get("windowsAutopilotDeviceIdentities")!.table!,
    users: ctx.model.entitySets.get("users")!.table,
  };
  await ctx.db.transaction(async (tx) => {
    if (doc.userPrincipalName) {
      const [user] = await ctx.entities.findBy(tx, tables.users, ctx.tenantId, "userPrincipalName", String(doc.userPrincipalName));
      if (!user) throw badRequest(`No user '${String(doc.userPrincipalName)}' exists in this tenant.`);
      doc.userId = user.id;
      doc.userDisplayName = user.doc.displayName;
      doc.emailAddress = user.doc.mail ?? user.doc.userPrincipalName;
    }
    const managed: StoredEntity = { id: ids.managedDeviceId, type: "windowsManagedDevice", seq: 0, doc };
    await storeNewEntity(ctx, tx, tables.managed, managed);

    const physicalIds = [
      ...(ids.autopilotDeviceId ? [`[ZTDId]:${ids.autopilotDeviceId}`] : []),
      ...(groupTag ? [`[OrderID]:${groupTag}`] : []),
      `[HWID]:h:${randomBytes(16).toString("hex")}`,
    ];
    const entra: StoredEntity = {
      id: ids.entraObjectId,
      type: "device",
      seq: 0,
      doc: {
        accountEnabled: true,
        alternativeSecurityIds: [{ type: 2, identityProvider: null, key: randomBytes(20).toString("base64") }],
        deviceId: ids.azureADDeviceId,
        displayName: doc.deviceName,
        operatingSystem: doc.operatingSystem,
        operatingSystemVersion: doc.osVersion,
        manufacturer: doc.manufacturer,
        model: doc.model,
        trustType: doc.joinType === "hybridAzureADJoined" ? "ServerAd" : doc.joinType === "azureADRegistered" ? "Workplace" : "AzureAd",
        profileType: "RegisteredDevice",
        deviceOwnership: doc.managedDeviceOwnerType === "personal" ? "Personal" : "Company",
        deviceCategory: doc.deviceCategoryDisplayName,
        enrollmentProfileName: doc.enrollmentProfileName,
        enrollmentType: "AzureDomainJoined",
        managementType: "MDM",
        isManaged: true,
        isCompliant: doc.complianceState === "compliant",
        devicePhysicalIds: physicalIds,
        systemLabels: [],
        registrationDateTime: now,
        approximateLastSignInDateTime: now,
        createdDateTime: now,
      },
    };
    await storeNewEntity(ctx, tx, tables.entra, entra);

    if (ids.autopilotDeviceId) {
      const identity: StoredEntity = {
        id: ids.autopilotDeviceId,
        type: "windowsAutopilotDeviceIdentity",
        seq: 0,
        doc: enrolledIdentityDocument({
          groupTag: groupTag ?? "",
          serialNumber: doc.serialNumber,
          manufacturer: doc.manufacturer,
          model: doc.model,
          systemFamily: "Surface",
          deviceName: doc.deviceName,
          azureADDeviceId: ids.azureADDeviceId,
          managedDeviceId: ids.managedDeviceId,
          userPrincipalName: doc.userPrincipalName as string | undefined,
          userDisplayName: doc.userDisplayName as string | undefined,
          at: now,
        }),
      };
      await storeNewEntity(ctx, tx, tables.autopilot, identity);
    }
    // The device's Entra face and memberships exist now: engines reading the managed device see it whole.
    await notifyManagedDeviceChanges(ctx, tx, ctx.tenantId, [ids.managedDeviceId]);
  });
  return ids;
}
