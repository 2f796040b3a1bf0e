// The few IPC messages between run.ts and a server child: the child reports "ready" (with facts about itself)
// once it listens, and closes and exits when told "stop" or when its parent goes away.

export interface ReadyMessage {
  type: "ready";
  url: string;
  [fact: string]: unknown;
}

export interface FailedMessage {
  type: "failed";
  error: string;
}

export type ChildMessage = ReadyMessage | FailedMessage;

export function serveUntilStopped(facts: { url: string; [fact: string]: unknown }, close: () => Promise<unknown>) {
  if (!process.send) throw new Error("this server is meant to be started by bench/http/run.ts (it needs an IPC channel)");
  let closing = false;
  const stop = async () => {
    if (closing) return;
    closing = true;
    try {
      await close();
    } finally {
      process.exit(0);
    }
  };
  process.on("message", (m: { type?: string }) => {
    if (m?.type === "stop") void stop();
  });
  process.on("disconnect", () => void stop());
  process.send({ type: "ready", ...facts } satisfies ReadyMessage);
}

export function reportFailure(error: unknown): never {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  if (process.send) process.send({ type: "failed", error: text } satisfies FailedMessage, () => process.exit(1));
  else console.error(text);
  setTimeout(() => process.exit(1), 1000).unref();
  throw error;
}
