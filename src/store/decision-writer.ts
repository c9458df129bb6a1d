// The decision log's writer thread: its own connection, so commits (and their fsync) never
// block the gateway's event loop. See DecisionLog's `writerThread` option.
import { parentPort, workerData } from "node:worker_threads";
import { DirectoryKeyring } from "../crypto/signing-keys.js";
import { openDatabase } from "./db.js";
import {
  type CheckpointSigner,
  decisionWriter,
  type WriterData,
  type WriterReply,
  type WriterRequest,
} from "./decision-log.js";

const port = parentPort;
if (port === null) throw new Error("decision-writer runs as a worker thread");
const data = workerData as WriterData;
const db = openDatabase(data.path);

/** Signs audit checkpoints here, with the data dir's keys (re-read for rotations). */
function signer(options: NonNullable<WriterData["checkpoints"]>): CheckpointSigner {
  const keyring = new DirectoryKeyring(options.dataDir, Date.now());
  let checked = Date.now();
  return {
    issuer: options.issuer,
    every: options.every,
    key: () => {
      if (Date.now() - checked > 5_000) {
        checked = Date.now();
        try {
          keyring.refresh();
        } catch {
          // Keep signing with the keys already loaded; the main thread logs key problems.
        }
      }
      return keyring.active;
    },
  };
}

const write = decisionWriter(
  db,
  data.checkpoints === undefined ? undefined : signer(data.checkpoints),
);

port.on("message", ({ id, entries }: WriterRequest) => {
  try {
    write(entries);
    port.postMessage({ id } satisfies WriterReply);
  } catch (err) {
    port.postMessage({ id, error: String(err) } satisfies WriterReply);
  }
});
