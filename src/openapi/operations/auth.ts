import { BODY_LIMIT } from "../../body-limits.js";
import {
  ChangePasswordBody,
  ForgotPasswordBody,
  LoginBody,
  LogoutBody,
  RefreshBody,
  ResendVerificationBody,
  ResetPasswordBody,
  SignupBody,
  VerifyEmailQuery,
} from "../../routes/auth.js";
import { EXAMPLE } from "../examples.js";
import type { OperationSpec } from "../operation.js";
import { Accepted } from "../schemas/agents.js";
import {
  CurrentOperator,
  LoggedOut,
  OperatorVerified,
  PasswordChanged,
  SignedUp,
  TokenPair,
} from "../schemas/operators.js";

/** Operator accounts: sign-up, login, refresh, logout, the signed-in operator. */
export const AUTH_OPERATIONS: readonly OperationSpec[] = [
  {
    method: "post",
    path: "/api/v1/auth/signup",
    operationId: "signup",
    summary: "Create an operator account and its organization",
    description:
      "Creates an operator (password hashed with scrypt) and an organization they own, and mails a link that verifies the address (`email_verified` stays false until it is followed; only verified operators can be added to an organization). An e-mail already signed up is 409. Limited per IP (`register` limiter).",
    tag: "Auth",
    access: "public",
    body: {
      schema: SignupBody,
      maxBytes: BODY_LIMIT.public,
      example: {
        email: EXAMPLE.operatorEmail,
        password: EXAMPLE.operatorPassword,
        name: "Ada Lovelace",
        organization: "Acme Corp",
      },
    },
    responses: { 201: { description: "Signed up.", name: "SignedUp", schema: SignedUp } },
    errors: [409],
  },
  {
    method: "get",
    path: "/api/v1/auth/verify-email",
    operationId: "verifyOperatorEmail",
    summary: "Verify an operator's e-mail address",
    description:
      "The link mailed at signup. Unknown token: 400 TOKEN_INVALID; reused: 400 TOKEN_USED; older than 24 hours: 400 TOKEN_EXPIRED.",
    tag: "Auth",
    access: "public",
    query: { schema: VerifyEmailQuery, example: { token: EXAMPLE.operatorVerificationToken } },
    responses: {
      200: { description: "Verified.", name: "OperatorVerified", schema: OperatorVerified },
    },
  },
  {
    method: "post",
    path: "/api/v1/auth/verify-email/resend",
    operationId: "resendOperatorVerification",
    summary: "Send an operator a new verification link",
    description:
      "Always 202, whether or not an unverified operator has this address, so it reveals nothing. Earlier links stop working. Limited per IP (`register` rule).",
    tag: "Auth",
    access: "public",
    body: {
      schema: ResendVerificationBody,
      maxBytes: BODY_LIMIT.public,
      example: { email: EXAMPLE.operatorEmail },
    },
    responses: { 202: { description: "Accepted.", name: "Accepted", schema: Accepted } },
  },
  {
    method: "post",
    path: "/api/v1/auth/login",
    operationId: "login",
    summary: "Log in",
    description:
      "Returns a 15-minute access token (JWT, typ aiegis-access+jwt, aud aiegis:operator-api) and a single-use refresh token. A wrong e-mail or password is the same 401 INVALID_CREDENTIALS. Limited per IP (`login` limiter).",
    tag: "Auth",
    access: "public",
    body: {
      schema: LoginBody,
      maxBytes: BODY_LIMIT.public,
      example: { email: EXAMPLE.operatorEmail, password: EXAMPLE.operatorPassword },
    },
    responses: { 200: { description: "Signed in.", name: "TokenPair", schema: TokenPair } },
    errors: [401],
  },
  {
    method: "post",
    path: "/api/v1/auth/password",
    operationId: "changePassword",
    summary: "Change the signed-in operator's password",
    description:
      "Needs the current password (wrong: 401 INVALID_CREDENTIALS). The calling session goes on; every other session of the operator ends, with its refresh and access tokens. Counted with logins per IP.",
    tag: "Auth",
    access: "operator",
    body: {
      schema: ChangePasswordBody,
      maxBytes: BODY_LIMIT.public,
      example: {
        current_password: EXAMPLE.operatorPassword,
        new_password: "a fresh and longer passphrase",
      },
    },
    responses: {
      200: { description: "Changed.", name: "PasswordChanged", schema: PasswordChanged },
    },
    errors: [401],
  },
  {
    method: "post",
    path: "/api/v1/auth/password/forgot",
    operationId: "forgotPassword",
    summary: "Mail a password reset token",
    description:
      "Always 202, whether or not an operator has this address, so it reveals nothing. The token works once, for an hour; earlier ones stop working. Limited per IP (`register` rule).",
    tag: "Auth",
    access: "public",
    body: {
      schema: ForgotPasswordBody,
      maxBytes: BODY_LIMIT.public,
      example: { email: EXAMPLE.operatorEmail },
    },
    responses: { 202: { description: "Accepted.", name: "Accepted", schema: Accepted } },
  },
  {
    method: "post",
    path: "/api/v1/auth/password/reset",
    operationId: "resetPassword",
    summary: "Set a new password with a mailed reset token",
    description:
      "Spends the token (unknown, used or expired: 400 TOKEN_INVALID), sets the password, marks the address verified (the token reached its mailbox) and ends every session of the operator. Counted with logins per IP.",
    tag: "Auth",
    access: "public",
    body: {
      schema: ResetPasswordBody,
      maxBytes: BODY_LIMIT.public,
      example: { token: EXAMPLE.passwordResetToken, new_password: "a fresh and longer passphrase" },
    },
    responses: {
      200: { description: "Reset.", name: "OperatorVerified", schema: OperatorVerified },
    },
  },
  {
    method: "post",
    path: "/api/v1/auth/refresh",
    operationId: "refreshToken",
    summary: "Exchange a refresh token",
    description:
      "Returns a new token pair; the presented refresh token is spent. Unknown, expired or of a revoked session: 401 INVALID_REFRESH_TOKEN. A spent token presented again is 401 REFRESH_TOKEN_REUSED and revokes its whole session: its refresh and access tokens stop working.",
    tag: "Auth",
    access: "public",
    body: {
      schema: RefreshBody,
      maxBytes: BODY_LIMIT.public,
      example: { refresh_token: EXAMPLE.refreshToken },
    },
    responses: { 200: { description: "A new pair.", name: "TokenPair", schema: TokenPair } },
    errors: [401],
  },
  {
    method: "post",
    path: "/api/v1/auth/logout",
    operationId: "logout",
    summary: "Log out",
    description:
      "Revokes the refresh token's session: its access tokens stop working at once. Unknown token: 401 INVALID_REFRESH_TOKEN. A client that lost its refresh token sends its access token instead (and no `refresh_token`): that token's session ends.",
    tag: "Auth",
    access: "optionalOperator",
    body: {
      schema: LogoutBody,
      maxBytes: BODY_LIMIT.public,
      required: false,
      example: { refresh_token: EXAMPLE.refreshToken },
    },
    responses: { 200: { description: "Logged out.", name: "LoggedOut", schema: LoggedOut } },
    errors: [401],
  },
  {
    method: "get",
    path: "/api/v1/auth/me",
    operationId: "getCurrentOperator",
    summary: "The signed-in operator",
    description: "The operator and every organization they belong to, with their role in each.",
    tag: "Auth",
    access: "operator",
    responses: {
      200: { description: "The operator.", name: "CurrentOperator", schema: CurrentOperator },
    },
  },
];
