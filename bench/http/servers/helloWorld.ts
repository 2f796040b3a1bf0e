// The baseline: a bare Fastify 5 hello-world in a child process of its own, answering {"hello":"world"}.

import Fastify from "fastify";
import { serveUntilStopped } from "./childProtocol.js";

const app = Fastify({ logger: false });
app.get("/", async () => ({ hello: "world" }));
await app.listen({ port: 0, host: "127.0.0.1" });
const address = app.server.address();
const port = typeof address === "object" && address ? address.port : 0;

serveUntilStopped({ url: `http://127.0.0.1:${port}` }, () => app.close());
