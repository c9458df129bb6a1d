import type { CallOptions, Transport } from "../transport.js";

export type Decision = "ALLOW" | "WARN" | "BLOCK";

/** What an agent is about to do, as /protect judges it. */
export type ProtectAction = Readonly<{
  /** The tool name: `read_file`, `shell_exec`, `http_request`, `sql_query`, `send_email`… */
  action: string;
  /** Path, URL, command, table or recipient. */
  target?: string;
  /** File contents, e-mail body, prompt, tool output, SQL. */
  content?: string;
  /** Structured arguments (nesting ≤ 32). */
  params?: Readonly<Record<string, unknown>>;
  /** Where the text came from; injected instructions count more in tool output, web and files. */
  context?: Readonly<{
    source?: "user" | "tool_output" | "web" | "file" | "agent";
    session_id?: string;
  }>;
}>;

export type ProtectOptions = CallOptions &
  Readonly<{
    /** A passport (JWS) whose policy bundle judges this action (`X-Agent-Passport`). */
    passport?: string;
    /** The acting agent; required with an organization key, optional with an agent key. */
    agentId?: string;
  }>;

/** One finding of a layer. */
export type Threat = Readonly<{
  layer: string;
  code: string;
  severity: "BLOCK" | "WARN";
  confidence: number;
  message: string;
  evidence?: string;
}>;

export type ProtectResult = Readonly<{
  decision: Decision;
  agent_id: string;
  request_id: string;
  layers_checked: number;
  latency_ms: number;
  /** Every finding, strongest first. */
  threats_found: readonly Threat[];
  confidence_scoring: Readonly<{ score: number; tier: "high" | "medium" | "low" }>;
  policy: Readonly<{ id: string; hash: string }>;
  timestamp: string;
}>;

/** POST /api/v1/protect: the gateway's decision on one action (BLOCK is data, not an error). */
export function protect(
  transport: Transport,
  action: ProtectAction,
  options: ProtectOptions = {},
): Promise<ProtectResult> {
  const { passport, agentId, ...call } = options;
  return transport.request<ProtectResult>(
    {
      method: "POST",
      path: "/protect",
      body: agentId === undefined ? action : { ...action, agent_id: agentId },
      headers: { "x-agent-passport": passport },
      credential: "key",
      // Judging an action changes nothing but the decision log (and a BLOCK's count towards
      // auto-quarantine): a repeat gets the same decision, so a lost answer may be asked again.
      retry: "safe",
    },
    call,
  );
}
