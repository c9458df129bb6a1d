// The decision log's writer thread: its own connection, so commits (and their fsync) never
// block the gateway's event loop. See DecisionLog's `writerThread` option.
import { parentPort, workerData } from "node:worker_threads";
import { openDatabase } from "./db.js";
import { decisionWriter, type WriterReply, type WriterRequest } from "./decision-log.js";

const port = parentPort;
if (port === null) throw new Error("decision-writer runs as a worker thread");
const db = openDatabase((workerData as { path: string }).path);
const write = decisionWriter(db);

port.on("message", ({ id, entries }: WriterRequest) => {
  try {
    write(entries);
    port.postMessage({ id } satisfies WriterReply);
  } catch (err) {
    port.postMessage({ id, error: String(err) } satisfies WriterReply);
  }
});
