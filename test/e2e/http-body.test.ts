import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type RunningServer, startServer } from "../helpers/server-process.js";

/** A raw HTTP/1.1 exchange: what the server sent, and whether it closed the connection. */
type Exchange = { head: string; body: string; closed: boolean };

function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((ready, fail) => {
    const socket = connect(Number(port), hostname, () => ready(socket));
    socket.on("error", fail);
  });
}

/** Collects what arrives until the socket closes or `waitMs` passes. */
function collect(socket: Socket, waitMs: number): Promise<Exchange> {
  return new Promise((done) => {
    let raw = "";
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      const split = raw.indexOf("\r\n\r\n");
      done({ head: raw.slice(0, split), body: raw.slice(split + 4), closed });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on("data", (chunk) => (raw += chunk.toString("latin1")));
    socket.on("close", () => finish(true));
    socket.on("error", () => undefined);
  });
}

/** Parses a (possibly chunked) JSON body. */
function json(exchange: Exchange): Record<string, unknown> {
  const chunked = /transfer-encoding: chunked/i.test(exchange.head);
  const text = chunked
    ? exchange.body.replace(/(^|\r\n)[0-9a-f]+\r\n/gi, "").replace(/\r\n$/, "")
    : exchange.body;
  return JSON.parse(text) as Record<string, unknown>;
}

describe("e2e: request bodies read from the socket", () => {
  let dataDir: string;
  let server: RunningServer;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "aiegis-e2e-body-"));
    server = await startServer({ AIEGIS_DATA_DIR: dataDir });
  });

  after(async () => {
    if (server !== undefined) await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("an endless chunked body is cut off with 413 and the limit, and the connection closed", async () => {
    const socket = await open(server.url);
    const answer = collect(socket, 10_000);
    socket.write(
      "POST /api/register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    const chunk = `{"pad":"${"a".repeat(500)}`;
    const feeder = setInterval(() => {
      if (!socket.destroyed) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    }, 2);
    const exchange = await answer;
    clearInterval(feeder);
    assert.match(exchange.head, /^HTTP\/1\.1 413 /);
    assert.match(exchange.head, /connection: close/i);
    assert.equal(exchange.closed, true, "the rest of the body is not drained");
    const body = json(exchange);
    assert.equal(body.code, "PAYLOAD_TOO_LARGE");
    assert.equal(body.limit, 2000);
  });

  test("a body sent in small pieces with pauses is read whole", async () => {
    const socket = await open(server.url);
    const answer = collect(socket, 10_000);
    const payload = JSON.stringify({
      agent_name: "slow-body-bot",
      agent_type: "assistant",
      description: "Registered with a body that arrives a few bytes at a time.",
      owner_name: "Owner",
      owner_email: "slow@example.com",
    });
    socket.write(
      `POST /api/register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n`,
    );
    for (let i = 0; i < payload.length; i += 40) {
      socket.write(payload.slice(i, i + 40));
      await sleep(5);
    }
    const exchange = await answer;
    assert.match(exchange.head, /^HTTP\/1\.1 201 /);
    assert.equal(json(exchange).status, "PENDING_VERIFICATION");
  });

  test("invalid UTF-8 on the wire is a 400, and the connection stays usable", async () => {
    const socket = await open(server.url);
    const answer = collect(socket, 1_500);
    const bad = Buffer.concat([
      Buffer.from('{"agent_name":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ]);
    socket.write(
      `POST /api/register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${bad.length}\r\n\r\n`,
    );
    socket.write(bad);
    await sleep(300);
    socket.write("GET /api/health HTTP/1.1\r\nHost: t\r\n\r\n");
    const exchange = await answer;
    socket.destroy();
    assert.match(exchange.head, /^HTTP\/1\.1 400 /);
    assert.match(exchange.body, /INVALID_UTF8/);
    assert.match(
      exchange.body,
      /HTTP\/1\.1 200 /,
      "keep-alive: the next request on it is answered",
    );
  });

  test("a client that hangs up mid-body leaves the server answering", async () => {
    for (let i = 0; i < 20; i++) {
      const socket = await open(server.url);
      socket.write(
        'POST /api/register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"agent',
      );
      socket.destroy();
    }
    await sleep(100);
    const health = await fetch(`${server.url}/api/health`);
    assert.equal(health.status, 200);
    assert.doesNotMatch(server.output(), /"level":"(error|fatal)"/);
  });
});
