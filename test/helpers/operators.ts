import { jsonOf, type TestApp } from "./test-app.js";

export type Operator = {
  operatorId: string;
  orgId: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  /** Authorization header for the operator's access token. */
  auth: Record<string, string>;
};

let counter = 0;

/** Signs an operator up (with a new organization they own), verifies the address, logs them in. */
export async function signUpOperator(
  t: TestApp,
  options: { email?: string; organization?: string; verify?: boolean } = {},
): Promise<Operator> {
  counter++;
  const email = options.email ?? `operator-${counter}@example.com`;
  const password = `correct horse battery ${counter}`;
  const signup = await t.call("POST", "/api/v1/auth/signup", {
    body: {
      email,
      password,
      name: `Operator ${counter}`,
      organization: options.organization ?? `Org ${counter}`,
    },
  });
  const created = await jsonOf(signup);
  if (signup.status !== 201) {
    throw new Error(`signup failed: ${signup.status} ${JSON.stringify(created)}`);
  }
  if (options.verify !== false) {
    const token = t.mailer.lastToken(email.toLowerCase());
    const verified = await t.call("GET", `/api/v1/auth/verify-email?token=${token}`);
    if (verified.status !== 200) throw new Error(`verification failed: ${verified.status}`);
  }
  const login = await t.call("POST", "/api/v1/auth/login", { body: { email, password } });
  const tokens = await jsonOf(login);
  if (login.status !== 200)
    throw new Error(`login failed: ${login.status} ${JSON.stringify(tokens)}`);
  const accessToken = String(tokens.access_token);
  return {
    operatorId: String((created.operator as { id: string }).id),
    orgId: String((created.organization as { id: string }).id),
    email,
    password,
    accessToken,
    refreshToken: String(tokens.refresh_token),
    auth: { authorization: `Bearer ${accessToken}` },
  };
}

/** Creates an agent inside the operator's organization; returns its id and agent key. */
export async function createOrgAgent(
  t: TestApp,
  operator: Operator,
  name = `org-agent-${++counter}`,
): Promise<{ agentId: string; apiKey: string }> {
  const res = await t.call("POST", `/api/v1/organizations/${operator.orgId}/agents`, {
    headers: operator.auth,
    body: { name, type: "assistant", description: "Files expense reports for the finance team." },
  });
  const json = await jsonOf(res);
  if (res.status !== 201) throw new Error(`agent failed: ${res.status} ${JSON.stringify(json)}`);
  return { agentId: String(json.agent_id), apiKey: String(json.api_key) };
}

/** Creates a scoped organization key; returns its id and the `ak_live_…` key. */
export async function createOrgKey(
  t: TestApp,
  operator: Operator,
  scopes: readonly string[],
  extra: Record<string, unknown> = {},
): Promise<{ id: string; key: string }> {
  const res = await t.call("POST", `/api/v1/organizations/${operator.orgId}/api-keys`, {
    headers: operator.auth,
    body: { name: `key ${++counter}`, scopes, ...extra },
  });
  const json = await jsonOf(res);
  if (res.status !== 201) throw new Error(`key failed: ${res.status} ${JSON.stringify(json)}`);
  return { id: String(json.id), key: String(json.api_key) };
}

/** Logs the operator in again (a new session), e.g. after the clock passed the token's expiry. */
export async function logInAgain(t: TestApp, operator: Operator): Promise<void> {
  const login = await t.call("POST", "/api/v1/auth/login", {
    body: { email: operator.email, password: operator.password },
  });
  const tokens = await jsonOf(login);
  if (login.status !== 200)
    throw new Error(`login failed: ${login.status} ${JSON.stringify(tokens)}`);
  operator.accessToken = String(tokens.access_token);
  operator.refreshToken = String(tokens.refresh_token);
  operator.auth = { authorization: `Bearer ${operator.accessToken}` };
}
