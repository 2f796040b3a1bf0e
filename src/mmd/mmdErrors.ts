// MMD answers errors in two shapes within one API (spec §1.9): the flat OData error of the profile endpoints and
// a Graph-like body elsewhere, both with the HTTP status as a string code and without request ids.

import type { FastifyReply } from "fastify";

export class MmdError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** `flat` for profiles/reassignProfile, `nested` for the other endpoints. */
    readonly shape: "flat" | "nested",
  ) {
    super(message);
  }
}

export const flatError = (status: number, message: string) => new MmdError(status, message, "flat");
export const nestedError = (status: number, message: string) => new MmdError(status, message, "nested");

export function sendMmdError(reply: FastifyReply, e: MmdError) {
  const body =
    e.shape === "flat"
      ? { errorCode: String(e.status), message: e.message, instanceAnnotations: [] }
      : { error: { code: String(e.status), message: e.message } };
  return reply.code(e.status).type("application/json; charset=utf-8").send(body);
}
