import type { CallOptions, TokenSet } from "../transport.js";
import { Resource } from "./resource.js";

export type MemberRole = "owner" | "admin" | "member" | "viewer";

export type Operator = Readonly<{
  id: string;
  email: string;
  name: string;
  /** False until the link mailed at signup is followed; only verified operators can be added to an organization. */
  email_verified: boolean;
  created_at: string;
}>;

export type OrganizationSummary = Readonly<{
  id: string;
  name: string;
  role: MemberRole;
  created_at: string;
}>;

export type SignupRequest = Readonly<{
  email: string;
  /** 8–256 characters. */
  password: string;
  name: string;
  /** The name of the organization created with the account (the operator owns it). */
  organization: string;
}>;

export type SignupResult = Readonly<{ operator: Operator; organization: OrganizationSummary }>;

export type LoginRequest = Readonly<{ email: string; password: string }>;

export type Tokens = Readonly<{
  /** A JWT valid `expires_in` seconds (15 min). */
  access_token: string;
  /** Single-use: each refresh returns a new one. */
  refresh_token: string;
  token_type: "Bearer";
  expires_in: number;
}>;

export type Me = Readonly<{ operator: Operator; organizations: readonly OrganizationSummary[] }>;

/** Operator accounts: sign up, log in, refresh, log out. Login and refresh keep the tokens. */
export class Auth extends Resource {
  readonly #onTokens: ((tokens: TokenSet) => void) | undefined;

  constructor(
    transport: ConstructorParameters<typeof Resource>[0],
    onTokens?: (tokens: TokenSet) => void,
  ) {
    super(transport);
    this.#onTokens = onTokens;
  }

  /** POST /auth/signup: creates an operator and the organization they own. */
  signup(body: SignupRequest, options?: CallOptions): Promise<SignupResult> {
    return this.transport.request(
      { method: "POST", path: "/auth/signup", body, credential: "none", retry: "unsafe" },
      options,
    );
  }

  /** GET /auth/verify-email: follows the link mailed at signup (`token` is its query value). */
  verifyEmail(
    token: string,
    options?: CallOptions,
  ): Promise<{ status: "ok"; operator_id: string }> {
    return this.transport.request(
      {
        method: "GET",
        path: "/auth/verify-email",
        query: { token },
        credential: "none",
        retry: "safe",
      },
      options,
    );
  }

  /** POST /auth/verify-email/resend: a new link for an unverified address (always 202). */
  resendVerification(email: string, options?: CallOptions): Promise<{ status: "accepted" }> {
    return this.transport.request(
      {
        method: "POST",
        path: "/auth/verify-email/resend",
        body: { email },
        credential: "none",
        retry: "unsafe",
      },
      options,
    );
  }

  /** POST /auth/password: a new password; this session goes on, every other one ends. */
  changePassword(
    body: Readonly<{ current_password: string; new_password: string }>,
    options?: CallOptions,
  ): Promise<{ status: "ok" }> {
    return this.transport.request(
      { method: "POST", path: "/auth/password", body, credential: "operator", retry: "unsafe" },
      options,
    );
  }

  /** POST /auth/password/forgot: mails a reset token to an operator's address (always 202). */
  forgotPassword(email: string, options?: CallOptions): Promise<{ status: "accepted" }> {
    return this.transport.request(
      {
        method: "POST",
        path: "/auth/password/forgot",
        body: { email },
        credential: "none",
        retry: "unsafe",
      },
      options,
    );
  }

  /** POST /auth/password/reset: spends a mailed token; every session of the operator ends. */
  resetPassword(
    body: Readonly<{ token: string; new_password: string }>,
    options?: CallOptions,
  ): Promise<{ status: "ok"; operator_id: string }> {
    return this.transport.request(
      { method: "POST", path: "/auth/password/reset", body, credential: "none", retry: "unsafe" },
      options,
    );
  }

  /** POST /auth/login: signs in; the client keeps the tokens for later calls. */
  async login(body: LoginRequest, options?: CallOptions): Promise<Tokens> {
    const tokens = await this.transport.request<Tokens>(
      // Not retried after a 5xx: each login opens a session.
      { method: "POST", path: "/auth/login", body, credential: "none", retry: "unsafe" },
      options,
    );
    this.#store(tokens);
    return tokens;
  }

  /**
   * POST /auth/refresh: exchanges the refresh token (the one held, or `refreshToken`) for new
   * tokens, which the client keeps. Never retried on a 5xx or a lost answer: the old token may
   * already be spent, and presenting it again revokes the whole session.
   */
  async refresh(refreshToken?: string, options?: CallOptions): Promise<Tokens> {
    const token = refreshToken ?? this.transport.credentials.refreshToken;
    if (token === undefined) throw new TypeError("No refresh token: log in first");
    const tokens = await this.transport.request<Tokens>(
      {
        method: "POST",
        path: "/auth/refresh",
        body: { refresh_token: token },
        credential: "none",
        retry: "unsafe",
        refreshOnExpiry: false,
      },
      options,
    );
    this.#store(tokens);
    return tokens;
  }

  /** POST /auth/logout: ends the session (its access tokens stop at once); forgets the tokens. */
  async logout(options?: CallOptions): Promise<{ logged_out: true }> {
    const credentials = this.transport.credentials;
    if (credentials.refreshToken === undefined) throw new TypeError("No session: log in first");
    const result = await this.transport.request<{ logged_out: true }>(
      {
        method: "POST",
        path: "/auth/logout",
        // Read per attempt: should the access token be refreshed on the way, the refresh token
        // held after it is the one to revoke.
        body: () => ({ refresh_token: credentials.refreshToken }),
        credential: "operator",
        retry: "unsafe",
      },
      options,
    );
    credentials.accessToken = undefined;
    credentials.refreshToken = undefined;
    return result;
  }

  /** GET /auth/me: the signed-in operator and their organizations. */
  me(options?: CallOptions): Promise<Me> {
    return this.transport.request(
      { method: "GET", path: "/auth/me", credential: "operator", retry: "safe" },
      options,
    );
  }

  #store(tokens: Tokens): void {
    this.transport.credentials.accessToken = tokens.access_token;
    this.transport.credentials.refreshToken = tokens.refresh_token;
    this.#onTokens?.({
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      expiresIn: tokens.expires_in,
    });
  }
}
