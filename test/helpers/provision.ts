import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** POSTs JSON and returns the parsed answer; any status but 2xx throws with the body. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${url}: ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Registers an agent, follows the verification link from the outbox and issues a passport. */
export async function provisionAgent(base: string, dataDir: string) {
  const registered = await postJson(`${base}/api/register`, {
    agent_name: "bench-bot",
    agent_type: "assistant",
    description: "Load benchmark agent.",
    owner_name: "Bench Owner",
    owner_email: "bench@example.com",
  });
  const agentId = String(registered.agent_id);
  const apiKey = String(registered.api_key);
  const outbox = join(dataDir, "outbox");
  let link: string | undefined;
  for (let i = 0; i < 50 && link === undefined; i++) {
    const mails = existsSync(outbox) ? readdirSync(outbox).filter((f) => f.endsWith(".eml")) : [];
    for (const mail of mails) {
      // Undo quoted-printable soft breaks and escapes, as a mail client would.
      const text = readFileSync(join(outbox, mail), "utf8")
        .replace(/=\r?\n/g, "")
        .replace(/=([0-9A-F]{2})/g, (_m, hex: string) =>
          String.fromCharCode(Number.parseInt(hex, 16)),
        );
      link = text.match(/(http:\/\/\S+\/api\/verify-email\?token=[A-Za-z0-9_-]+)/)?.[1] ?? link;
    }
    if (link === undefined) await sleep(100);
  }
  if (link === undefined) throw new Error("no verification mail in the outbox");
  const verified = await fetch(link);
  if (verified.status !== 200) throw new Error(`verification failed: ${verified.status}`);
  const issued = await postJson(
    `${base}/api/agent/issue`,
    {
      agent_id: agentId,
      operator: "Bench Corp",
      jurisdiction: "EU",
      policy: "default",
      ttl_s: 86_400,
    },
    { "x-api-key": apiKey },
  );
  return { agentId, apiKey, passport: String(issued.passport) };
}
