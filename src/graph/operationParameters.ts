// Validates the JSON body of a bound action against the parameters the model declares for it.

import { badRequest } from "../odata/errors.js";
import type { BoundOperationDecl } from "../odata/model.js";
import type { BodyValidator } from "../odata/bodyValidation.js";

export function actionParameters(validator: BodyValidator, op: BoundOperationDecl, body: unknown): Record<string, unknown> {
  const declared = op.parameters ?? {};
  if (body === undefined) body = {};
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest(`The body of '${op.name}' must be a JSON object.`);
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    const decl = declared[name] ?? (op.additionalParameters ? { type: op.additionalParameters } : undefined);
    if (!decl) throw badRequest(`The parameter '${name}' is not a parameter of the action '${op.name}'.`);
    out[name] = validator.value(decl, value, name);
  }
  for (const [name, decl] of Object.entries(declared)) {
    if (decl.required && (out[name] === undefined || out[name] === null)) throw badRequest(`The parameter '${name}' of the action '${op.name}' is required.`);
  }
  return out;
}
