// /_allot/faults: fault injection rules for Graph requests and $batch items. With the admin key a rule may
// name any tenant or none (every tenant); with a token holding Allot.Admin it is that tenant's rule, and the
// token sees and deletes only its tenant's rules. POST creates (201), GET lists, DELETE /{id} deletes one,
// DELETE deletes all.

import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { jsonBody } from "../graph/graphRoutes.js";
import type { CompiledModel } from "../odata/compiledModel.js";
import { badRequest, notFound } from "../odata/errors.js";
import { FaultRuleError, parseFaultRule } from "../gate/faultRules.js";
import type { FaultStore } from "../gate/faultStore.js";
import { authorizedTenant, hasAdminKey, type ControlAuthority } from "./controlAuthorization.js";

export interface FaultRouteDeps {
  authority: ControlAuthority;
  faults: FaultStore;
  model: CompiledModel;
}

export function registerFaultRoutes(app: FastifyInstance, deps: FaultRouteDeps) {
  /** The tenant the caller is confined to: none with the admin key. */
  const confinedTo = async (request: FastifyRequest, what: string) =>
    hasAdminKey(deps.authority, request) ? undefined : await authorizedTenant(deps.authority, request, undefined, what);

  app.post("/_allot/faults", async (request, reply) => {
    const body = jsonBody(request);
    const named = typeof body === "object" && body !== null && typeof (body as { tenant?: unknown }).tenant === "string" ? (body as { tenant: string }).tenant : undefined;
    const tenant = await authorizedTenant(deps.authority, request, named, "Creating a fault rule");
    let rule;
    try {
      rule = parseFaultRule(deps.model, tenant !== undefined && typeof body === "object" && body !== null ? { ...body, tenant } : body, randomUUID(), deps.authority.clock.now());
    } catch (e) {
      if (e instanceof FaultRuleError) throw badRequest(`Invalid fault rule: ${e.message}.`);
      throw e;
    }
    await deps.faults.add(rule);
    const [listed] = (await deps.faults.list()).filter((r) => r.id === rule.id);
    return reply.code(201).send(listed);
  });

  app.get("/_allot/faults", async (request) => ({ value: await deps.faults.list(await confinedTo(request, "Listing fault rules")) }));

  app.delete("/_allot/faults/:id", async (request, reply) => {
    const tenant = await confinedTo(request, "Deleting a fault rule");
    const { id } = request.params as { id: string };
    if (!(await deps.faults.remove(id, tenant))) throw notFound(`No fault rule '${id}' exists.`);
    return reply.code(204).send();
  });

  app.delete("/_allot/faults", async (request) => ({ deleted: await deps.faults.clear(await confinedTo(request, "Deleting fault rules")) }));
}
