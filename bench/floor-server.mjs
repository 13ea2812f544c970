/**
 * The floor of the targets bench: a bare Fastify server on this machine, without Bursar's
 * authentication, store or journal. `GET /floor` answers a small JSON object, as a cheap read
 * would; `POST /floor/commit` waits for a group commit that writes 16 KiB (about the pages a
 * transfer dirties) and fsyncs the file once for every request waiting, as a durable write would.
 * Bench rows measured against it say how much of a request's CPU is Bursar's own.
 *
 * `node bench/floor-server.mjs <file to fsync>`; prints `listening on <url>`.
 */
import fs from "node:fs";
import Fastify from "fastify";

const app = Fastify({ logger: false });
const answer = { tree_size: 6, leaf_index: 1, inclusion_path: ["3q2+7w==", "yv66vg==", "3q2+7w=="] };
app.get("/floor", async () => answer);

const fd = fs.openSync(process.argv[2], "w");
const pages = Buffer.alloc(16 * 1024, 1);
let waiting = [];
let scheduled = false;
function commit() {
  scheduled = false;
  const batch = waiting;
  waiting = [];
  fs.writeSync(fd, pages, 0, pages.length, 0);
  fs.fsyncSync(fd);
  for (const resolve of batch) resolve();
}
app.post("/floor/commit", async () => {
  await new Promise((resolve) => {
    waiting.push(resolve);
    if (!scheduled) {
      scheduled = true;
      setImmediate(commit);
    }
  });
  return answer;
});

await app.listen({ host: "127.0.0.1", port: 0 });
const address = app.server.address();
process.stdout.write(`listening on http://127.0.0.1:${address.port}\n`);
