/**
 * The writer thread: owns the gateway's connection to the session database, so that SQLite's
 * synchronous work (batched inserts, stored responses, retention) never runs on the event loop
 * that serves requests. Speaks the protocol in `worker-protocol.ts`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { SqliteStore } from "./sqlite-store.js";
import { type FromWriter, type ToWriter, toWireError, type WriterSettings } from "./worker-protocol.js";

const port = parentPort;
if (!port) throw new Error("store-worker.ts runs as a worker thread");
const settings = workerData as WriterSettings;
const send = (message: FromWriter) => port.postMessage(message);

let store: SqliteStore;
try {
  store = new SqliteStore(settings.file);
} catch (error) {
  send({ type: "failed", error: toWireError(error) });
  port.close();
  throw error;
}
store.onWriteError = (error, dropped) => send({ type: "writeError", error: toWireError(error), dropped });
store.startMaintenance(settings.retention, {
  ...(settings.retentionIntervalMs ? { intervalMs: settings.retentionIntervalMs } : {}),
  onError: (error) => send({ type: "maintenanceError", error: toWireError(error) }),
});

function call(message: Extract<ToWriter, { type: "call" }>): unknown {
  switch (message.name) {
    case "saveResponse":
      return store.saveResponse(message.args);
    case "getResponse":
      return store.getResponse(message.args);
    case "deleteResponse":
      return store.deleteResponse(message.args);
    case "queryRequests":
      return store.queryRequests(message.args);
    case "aggregateRequests":
      return store.aggregateRequests(message.args);
    case "keySpend":
      return store.keySpend(message.args.keyId, message.args.since);
    case "requestSeries":
      return store.requestSeries(message.args);
    case "listSessions":
      return store.listSessions(message.args);
    case "getSession":
      return store.getSession(message.args);
  }
}

port.on("message", (message: ToWriter) => {
  switch (message.type) {
    case "records": {
      // The main thread already batched them (by time and count): write now, in one transaction.
      store.recordBatch(message.batch);
      store.flush();
      send({ type: "written", count: message.batch.turns.length + message.batch.requests.length });
      return;
    }
    case "call": {
      try {
        send({ type: "reply", id: message.id, result: call(message) });
      } catch (error) {
        send({ type: "reply", id: message.id, error: toWireError(error) });
      }
      return;
    }
    case "close": {
      store.close();
      send({ type: "closed" });
      port.close();
      return;
    }
  }
});
send({ type: "ready" });
