// A JSON body already written as text (a GET by id's entity: EntitySerializer.entityText). The HTTP writers send
// the text as it is; whatever embeds it in a larger JSON value (a $batch response) gets the value back through
// toJSON, which JSON.stringify calls.

export class JsonText {
  constructor(readonly text: string) {}

  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

/** The wire text of a reply body that is JSON: a JsonText's own text, a string as it is, anything else stringified. */
export const jsonPayload = (body: unknown): string => (typeof body === "string" ? body : body instanceof JsonText ? body.text : JSON.stringify(body));
