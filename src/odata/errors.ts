// One error type for every protocol failure. Handlers throw GraphError; the Graph adapter serializes it into
// the Graph envelope and the MMD adapter into its own shapes, so no handler formats an error body itself.

export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers, e.g. Retry-After on 429. */
    readonly headers: Record<string, string> = {},
    /** Extra innerError fields (throttling's code/message/status), besides date and the request ids. */
    readonly innerError: Record<string, string> = {},
  ) {
    super(message);
    this.name = "GraphError";
  }
}

export const badRequest = (message: string, code = "BadRequest") => new GraphError(400, code, message);
export const notFound = (message: string, code = "ResourceNotFound") => new GraphError(404, code, message);
export const unauthorized = (message: string) => new GraphError(401, "InvalidAuthenticationToken", message);
export const forbidden = (message: string, code = "Forbidden") => new GraphError(403, code, message);

/** Graph's answer for a path segment the model does not know (spec §4.1). */
export const segmentNotFound = (segment: string) =>
  badRequest(`Resource not found for the segment '${segment}'.`);
