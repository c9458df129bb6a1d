import type { ProtectAction, ProtectOptions, ProtectResult, Threat } from "./resources/protect.js";

/** Anything that can ask the gateway: the `Aiegis` client. */
export type Protector = Readonly<{
  protect(action: ProtectAction, options?: ProtectOptions): Promise<ProtectResult>;
}>;

export type GuardOptions<Args extends readonly unknown[]> = Readonly<{
  /** Describes a call of the tool as the action the gateway judges (receives the tool's arguments). */
  toAction: (...args: Args) => ProtectAction;
  /**
   * Called on WARN before the tool runs; the call proceeds unless it throws (or rejects), so a
   * human-approval step can refuse by throwing.
   */
  onWarn?: (result: ProtectResult, ...args: Args) => void | Promise<void>;
  /** Judge with this passport's policy bundle; a function is asked on every call. */
  passport?: string | (() => string | undefined);
  /** The acting agent, when the client holds an organization key. */
  agentId?: string;
  /** Gateway timeout per attempt; a tool should not wait the client's default 30 s. */
  timeoutMs?: number;
  /** Retries of the protect call itself (429, 5xx, network); the client's default otherwise. */
  maxRetries?: number;
}>;

/** The gateway answered BLOCK: the tool was not run. */
export class BlockedError extends Error {
  override name = "BlockedError";
  readonly decision = "BLOCK" as const;
  /** The findings, strongest first. */
  readonly threats: readonly Threat[];
  /** The gateway's request id, to find the decision in the audit log. */
  readonly requestId: string;
  /** The gateway's full answer. */
  readonly result: ProtectResult;
  /** What was judged. */
  readonly action: ProtectAction;

  constructor(result: ProtectResult, action: ProtectAction) {
    const top = result.threats_found[0];
    super(
      top === undefined
        ? `aiegis blocked ${action.action}`
        : `aiegis blocked ${action.action}: ${top.message} (${top.layer}/${top.code})`,
    );
    this.threats = result.threats_found;
    this.requestId = result.request_id;
    this.result = result;
    this.action = action;
  }
}

/**
 * Wraps a tool function so every call is first judged by POST /api/v1/protect: ALLOW runs it,
 * WARN runs it after `onWarn`, BLOCK rejects with BlockedError. Fails closed: if the action
 * cannot be described, or the gateway errs, times out or cannot be reached, the call rejects
 * with that error and the tool never runs.
 */
export function guard<Args extends readonly unknown[], Result>(
  client: Protector,
  tool: (...args: Args) => Result,
  options: GuardOptions<Args>,
): (...args: Args) => Promise<Awaited<Result>> {
  const { toAction, onWarn, passport, agentId, timeoutMs, maxRetries } = options;
  return async (...args: Args): Promise<Awaited<Result>> => {
    const action = toAction(...args);
    const result = await client.protect(action, {
      passport: typeof passport === "function" ? passport() : passport,
      agentId,
      timeoutMs,
      maxRetries,
    });
    switch (result.decision) {
      case "ALLOW":
        break;
      case "WARN":
        await onWarn?.(result, ...args);
        break;
      default:
        // BLOCK, or anything this SDK does not know: never run the tool on an unknown answer.
        throw new BlockedError(result, action);
    }
    return await tool(...args);
  };
}
