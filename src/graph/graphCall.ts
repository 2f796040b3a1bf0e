// One Graph request as the pipeline sees it, whatever carried it (an HTTP request or an item of a JSON batch), and
// what it answers.

import { badRequest, GraphError } from "../odata/errors.js";
import { graphErrorBody } from "../server/graphErrorEnvelope.js";

export type RequestHeaders = Record<string, string | string[] | undefined>;

/** One Graph request. */
export interface GraphCall {
  method: string;
  /** From the version segment on, e.g. `/beta/users?$top=5` or `/v1.0/$metadata`. */
  url: string;
  /** Header names in lower case, as Node gives them. */
  headers: RequestHeaders;
  /** The raw body; its `content-type` header says what it is. */
  body?: Buffer;
  /** `scheme://host[:port]` the client used: the base of @odata.context, nextLink and Location. */
  baseUrl: string;
  requestId: string;
  /** For a $batch item: the headers of the batch request it came in (which client sent it). */
  outerHeaders?: RequestHeaders;
}

/** What a Graph request answers. Errors are already in the Graph envelope. */
export interface GraphReply {
  status: number;
  /** Response headers besides the protocol headers every response carries; `content-type` when there is a body. */
  headers: Record<string, string>;
  /** A JSON value (object or array), a text (`$count`, `$metadata`), or nothing (204). */
  body?: unknown;
  /** An injected fault: close the connection without an answer (a batch item answers 504 instead). */
  drop?: boolean;
}

/** Parses a JSON request body from its bytes and content type, refusing other content types the way Graph does. */
export function parseGraphJsonBody(raw: Buffer | undefined, contentType: string): unknown {
  if (!raw || raw.length === 0) return undefined;
  if (contentType !== "" && !/^application\/json\b/i.test(contentType) && !/\+json\b/i.test(contentType)) {
    throw new GraphError(415, "UnsupportedMediaType", `The content type '${contentType}' is not supported; send application/json.`);
  }
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw badRequest("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.");
  }
}

/** A GraphError as a reply, in the one Graph error envelope (the same as HTTP requests get). */
export function graphErrorReply(error: GraphError, requestId: string, headers: RequestHeaders, now: Date): GraphReply {
  const replyHeaders: Record<string, string> = { "content-type": "application/json" };
  for (const [name, value] of Object.entries(error.headers)) replyHeaders[name.toLowerCase()] = value;
  return { status: error.status, headers: replyHeaders, body: graphErrorBody(error, requestId, headers, now) };
}
