// GET /_allot/explain/devices/{managedDeviceId}: for one managed device of the caller's tenant, every device
// configuration and every Autopilot deployment profile, with the engine's reasoning (the deciding assignment, each
// assignment's reach, exclusions and filter result, and why it is in or out). Computed live by the same functions
// that maintain the reports; the configuration's maintained status is shown beside it. Shape: docs/explain.md.

import type { FastifyInstance } from "fastify";
import { chooseProfile, hardwareOf, reachedBy } from "../engine/autopilotProfileChoice.js";
import type { AutopilotAssignments, IdentityAssignmentState } from "../graph/autopilot/autopilotAssignments.js";
import { allRows } from "../graph/configurations/configurationCatalogue.js";
import type { ConfigurationStates } from "../graph/configurations/configurationStates.js";
import { hasPermission } from "../graph/entityRequests.js";
import type { GraphServices } from "../graph/graphContext.js";
import { graphContextFor } from "../graph/graphRoutes.js";
import { configurationPermissions } from "../graph/model/deviceConfigurations.js";
import { GRAPH_AUDIENCES } from "../identity/authenticate.js";
import type { Authenticator } from "../identity/authenticator.js";
import { forbidden, notFound } from "../odata/errors.js";
import type { SqlExecutor } from "../store/database.js";

export interface ExplainDeps {
  services: GraphServices;
  authenticator: Authenticator;
  configurations: ConfigurationStates;
  autopilot: AutopilotAssignments;
}

export function registerExplainRoutes(app: FastifyInstance, deps: ExplainDeps) {
  app.get<{ Params: { id: string } }>("/_allot/explain/devices/:id", async (request, reply) => {
    const principal = await deps.authenticator.authenticate(request.headers.authorization, GRAPH_AUDIENCES);
    const ctx = graphContextFor(deps.services, request, principal);
    if (!hasPermission(ctx, configurationPermissions.read)) {
      throw forbidden(`Explaining a device needs one of: ${configurationPermissions.read.application.join(", ")}.`, "Authorization_RequestDenied");
    }
    const explanation = await deps.services.db.transaction((tx) => explainDevice(deps, tx, ctx.tenantId, request.params.id));
    return reply.send(explanation);
  });
}

async function explainDevice(deps: ExplainDeps, tx: SqlExecutor, tenantId: string, managedDeviceId: string) {
  const { configurations: states, services } = deps;
  const device = await services.entities.get(tx, states.facts.managedDevices, tenantId, managedDeviceId);
  if (!device) throw notFound(`No managed device '${managedDeviceId}' exists in this tenant.`);
  const [{ facts }] = await states.facts.read(tx, tenantId, [device]);
  const catalogue = await states.catalogue(tx, tenantId);
  const p = (n: number) => tx.dialect.param(n);
  const maintained = new Map(
    (await tx.all(`SELECT configuration_id, status FROM configuration_device_states WHERE tenant_id = ${p(1)} AND managed_device_id = ${p(2)}`, [tenantId, device.id])).map((r) => [
      r.configuration_id as string,
      r.status as string,
    ]),
  );

  const configurations = [...catalogue.configurations.values()].map((c) => {
    const r = states.evaluate(catalogue, c, device, facts);
    return {
      id: c.id,
      "@odata.type": c.odataType,
      displayName: c.displayName,
      version: c.version,
      applies: r.applies,
      outcome: r.outcome,
      reason: r.reason,
      decidingAssignmentIds: r.decidingAssignmentIds,
      status: maintained.get(c.id) ?? null,
      assignments: r.assignments.map((a) => ({
        id: a.assignmentId,
        intent: a.intent,
        target: a.target,
        reach: a.reach,
        ...(a.excludes ? { excludes: a.excludes } : {}),
        filter: a.filter ? { ...a.filter, displayName: catalogue.filters.get(a.filter.id)?.displayName ?? null, rule: catalogue.filters.get(a.filter.id)?.rule ?? null } : null,
        outcome: a.outcome,
        reason: a.reason,
      })),
    };
  });

  return {
    managedDeviceId: device.id,
    deviceName: device.doc.deviceName ?? null,
    operatingSystem: device.doc.operatingSystem ?? null,
    evaluatedDateTime: services.clock.now().toISOString(),
    facts: {
      entraDeviceObjectId: facts.entraDeviceObjectId ?? null,
      deviceGroupIds: [...facts.deviceGroupIds],
      primaryUser: facts.primaryUser ? { id: facts.primaryUser.id, userPrincipalName: device.doc.userPrincipalName ?? null, licensed: facts.primaryUser.licensed, groupIds: [...facts.primaryUser.groupIds] } : null,
      removedConfigurationIds: [...facts.removedConfigurationIds],
    },
    configurations,
    autopilot: await explainAutopilot(deps, tx, tenantId, String(device.doc.azureADDeviceId ?? ""), facts.deviceGroupIds),
  };
}

async function explainAutopilot(deps: ExplainDeps, tx: SqlExecutor, tenantId: string, azureADDeviceId: string, groupIds: ReadonlySet<string>) {
  const { autopilot, services } = deps;
  if (!azureADDeviceId) return null;
  const identity = (await allRows(services.entities, tx, autopilot.identities, tenantId)).find((i) => String(i.doc.azureAdDeviceId ?? "").toLowerCase() === azureADDeviceId.toLowerCase());
  if (!identity) return null;
  const state = identity.doc as IdentityAssignmentState & Record<string, unknown>;
  const candidates = (await autopilot.candidates(tx, tenantId)).map((c) => (state._directProfileId === c.id ? { ...c, directDeviceIds: new Set([identity.id]) } : c));
  const facts = { identityId: identity.id, groupIds, hardware: hardwareOf(identity.doc.model as string) };
  const choice = chooseProfile(facts, candidates);
  const profiles = await allRows(services.entities, tx, autopilot.profiles, tenantId);
  const names = new Map(profiles.map((p) => [p.id, String(p.doc.displayName ?? "")]));
  return {
    autopilotDeviceIdentityId: identity.id,
    hardware: facts.hardware,
    // As reads show it: pending while an outstanding scope-wide change reaches the device.
    deploymentProfileAssignmentStatus: (await autopilot.present(tx, tenantId, [identity]))[0].doc.deploymentProfileAssignmentStatus ?? null,
    choice,
    rule: "oldest created profile reaching the device through a group or a direct assign wins; an All devices profile applies only when none does",
    profiles: candidates.map((c) => {
      const via = reachedBy(c, facts) ?? null;
      const excludedBy = c.targets.filter((t) => t.kind === "exclusionGroup" && groupIds.has(t.groupId)).map((t) => (t as { groupId: string }).groupId);
      const chosen = choice.outcome !== "notAssigned" && choice.profileId === c.id;
      return {
        id: c.id,
        displayName: names.get(c.id) ?? null,
        createdDateTime: c.createdDateTime,
        deviceType: c.deviceType,
        reachedBy: via,
        excludedByGroupIds: excludedBy,
        chosen,
        reason: chosen
          ? choice.outcome === "failed" ? `chosen, but its device type does not fit the hardware (${choice.detailedStatus})` : `chosen (reached through ${via})`
          : via === null
            ? excludedBy.length ? "an exclusion group holds the device" : "no assignment reaches the device"
            : via === "allDevices"
              ? choice.outcome !== "notAssigned" && "via" in choice && choice.via === "allDevices" ? "an older All devices profile is the default" : "an All devices profile is only the default: a profile targeting the device wins"
              : "an older profile reaches the device",
      };
    }),
  };
}
