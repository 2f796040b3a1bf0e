// The one serializer of Graph errors (spec §4.2): {"error":{"code","message","innerError":{date, request-id,
// client-request-id}}}, the date in UTC without fraction.

import type { FastifyReply, FastifyRequest } from "fastify";
import { GraphError } from "../odata/errors.js";

export const graphDate = (d: Date) => d.toISOString().slice(0, 19);

type Headers = Record<string, string | string[] | undefined>;

export function clientRequestIdOf(headers: Headers, requestId: string): string {
  const sent = headers["client-request-id"];
  return (Array.isArray(sent) ? sent[0] : sent) ?? requestId;
}

export const clientRequestId = (request: FastifyRequest) => clientRequestIdOf(request.headers, request.id);

/** The innerError object: extra fields of the error (throttling's code, message, status) in the documented order. */
function innerErrorOf(error: GraphError, requestId: string, headers: Headers, now: Date): Record<string, string> {
  const { code, message, status, ...rest } = error.innerError;
  return {
    ...(code !== undefined ? { code } : {}),
    date: graphDate(now),
    ...(message !== undefined ? { message } : {}),
    "request-id": requestId,
    ...(status !== undefined ? { status } : {}),
    ...rest,
    "client-request-id": clientRequestIdOf(headers, requestId),
  };
}

/** The Graph error envelope of one request. */
export function graphErrorBody(error: GraphError, requestId: string, headers: Headers, now: Date) {
  return {
    error: {
      code: error.code,
      message: error.message,
      innerError: innerErrorOf(error, requestId, headers, now),
    },
  };
}

export function sendGraphError(request: FastifyRequest, reply: FastifyReply, error: GraphError, now: Date) {
  reply.code(error.status).headers(error.headers).type("application/json").send(graphErrorBody(error, request.id, request.headers, now));
}

/** Maps Fastify's own errors (body too large, bad content, …) and anything unexpected to a GraphError. */
export function asGraphError(error: unknown): GraphError {
  if (error instanceof GraphError) return error;
  const e = error as { code?: string; statusCode?: number; message?: string };
  switch (e.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new GraphError(413, "RequestEntityTooLarge", "The request body is larger than the allowed size.");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new GraphError(415, "UnsupportedMediaType", "The content type of the request is not supported.");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new GraphError(400, "BadRequest", e.message ?? "The request body is not valid.");
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return new GraphError(e.statusCode, "BadRequest", e.message ?? "Bad request.");
  return new GraphError(500, "generalException", "An unexpected error occurred while processing the request.");
}
