// GET/PUT /_allot/throttling: the installation's Intune throttling limits (admin key). PUT takes what
// `allot serve --throttle` takes, as JSON: {"mode": "off"|"real"}, {"scale": 0.1}, or custom limits
// {"windowSeconds": 2, "families": {"devices": {"writes": {"tenant": 4, "app": 2}}}}; what is not named is real.

import type { FastifyInstance } from "fastify";
import { jsonBody } from "../graph/graphRoutes.js";
import { badRequest } from "../odata/errors.js";
import { limitsFromJson, ThrottleSettingsError } from "../gate/throttleLimits.js";
import type { SharedState } from "../server/sharedState.js";
import { requireAdminKey, type ControlAuthority } from "./controlAuthorization.js";

export function registerThrottlingRoutes(app: FastifyInstance, deps: { authority: ControlAuthority; shared: SharedState }) {
  app.get("/_allot/throttling", async (request) => {
    requireAdminKey(deps.authority, request, "Reading throttling limits");
    return deps.shared.throttling;
  });
  app.put("/_allot/throttling", async (request) => {
    requireAdminKey(deps.authority, request, "Changing throttling limits");
    let limits;
    try {
      limits = limitsFromJson(jsonBody(request));
    } catch (e) {
      if (e instanceof ThrottleSettingsError) throw badRequest(`Invalid throttling settings: ${e.message}.`);
      throw e;
    }
    await deps.shared.setThrottling(limits);
    return limits;
  });
}
