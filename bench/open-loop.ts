// An open-loop load generator: request i is due at start + i / rate whatever happened to the
// ones before it, and its latency is measured from that scheduled time. A server that stalls
// therefore shows its queue in the latencies instead of slowing the generator down (the
// "coordinated omission" closed-loop tools such as autocannon's overallRate suffer from).
import { Agent, request } from "node:http";

export type OpenLoopOptions = Readonly<{
  url: string;
  method: "GET" | "POST";
  path: string;
  headers: Readonly<Record<string, string>>;
  /** Cycled through, one per request. */
  bodies?: readonly string[];
  /** Requests per second to schedule. */
  rate: number;
  durationS: number;
  /** Sockets kept open; a request due while all are busy waits for one (and that counts). */
  connections: number;
  /** How long to wait for stragglers after the last send before counting them as timeouts. */
  drainMs?: number;
}>;

/** The figures a round reports; shaped like autocannon's result where they overlap. */
export type RoundResult = {
  requests: { total: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats?: Record<string, { count: number }>;
};

/** p99 of how late the generator itself sent requests (ms): its timer's share of the latencies. */
export type Lateness = { p50: number; p99: number };

/** Runs one open-loop round; `samples` are milliseconds from each request's scheduled send. */
export async function runOpenLoop(
  options: OpenLoopOptions,
): Promise<{ samples: number[]; result: RoundResult; lateness: Lateness }> {
  const target = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const samples: number[] = [];
  const late: number[] = [];
  const statusCodeStats: Record<string, { count: number }> = {};
  const result: RoundResult = {
    requests: { total: 0 },
    duration: options.durationS,
    errors: 0,
    timeouts: 0,
    non2xx: 0,
    statusCodeStats,
  };
  const total = Math.round(options.rate * options.durationS);
  let sent = 0;
  let outstanding = 0;
  let lastDone = 0;
  let finished = false;
  const start = performance.now();

  const send = (index: number, due: number) => {
    const body = options.bodies?.[index % options.bodies.length];
    outstanding++;
    late.push(performance.now() - due);
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        method: options.method,
        path: options.path,
        agent,
        headers: {
          ...options.headers,
          ...(body === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(body) }),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => {
          outstanding--;
          lastDone = performance.now();
          samples.push(lastDone - due);
          result.requests.total++;
          const code = String(res.statusCode);
          statusCodeStats[code] = { count: (statusCodeStats[code]?.count ?? 0) + 1 };
          if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) result.non2xx++;
        });
      },
    );
    req.on("error", () => {
      // After the drain, the sockets destroyed below abort what is left: already timeouts.
      if (finished) return;
      outstanding--;
      result.errors++;
    });
    req.end(body);
  };

  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      const dueCount = Math.min(total, Math.floor(((now - start) / 1000) * options.rate) + 1);
      while (sent < dueCount) {
        send(sent, start + (sent * 1000) / options.rate);
        sent++;
      }
      // A 1 ms timer, not a busy loop: the generator shares the machine with the server, so it
      // must not burn a core. Requests are sent up to ~1 ms late; `lateness` reports by how much.
      if (sent >= total) done();
      else setTimeout(tick, 1);
    };
    tick();
  });

  const drainUntil = performance.now() + (options.drainMs ?? 10_000);
  while (outstanding > 0 && performance.now() < drainUntil) {
    await new Promise((wake) => setTimeout(wake, 5));
  }
  result.timeouts = outstanding;
  finished = true;
  // Achieved throughput: over the time it took to answer, not the time it took to send.
  result.duration = Math.max(options.durationS, (lastDone - start) / 1000);
  agent.destroy();
  late.sort((a, b) => a - b);
  const at = (q: number) => late[Math.min(late.length - 1, Math.floor(late.length * q))] ?? 0;
  return { samples, result, lateness: { p50: at(0.5), p99: at(0.99) } };
}
