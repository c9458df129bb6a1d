import { GatewayError } from "../errors.js";

/** Why an e-mail verification token could not be spent. */
export type TokenRefusal = "UNKNOWN" | "USED" | "EXPIRED";

/** The 400 for a verification token that cannot be spent; `resend` names where to get a new one. */
export function tokenRefused(reason: TokenRefusal, resend: string): GatewayError {
  switch (reason) {
    case "UNKNOWN":
      return new GatewayError("TOKEN_INVALID", "Verification token is invalid");
    case "USED":
      return new GatewayError("TOKEN_USED", "Verification token was already used");
    case "EXPIRED":
      return new GatewayError(
        "TOKEN_EXPIRED",
        `Verification token has expired; ask for a new one with POST ${resend}`,
      );
  }
}
