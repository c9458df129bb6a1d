/**
 * The identifiers and secrets the documented examples use. They are exported so that the
 * OpenAPI test can send each example to a live app after swapping these values for the ones it
 * created (an example must name an agent, a passport, a key… that exists).
 */
export const EXAMPLE = {
  agentId: "agt_4Ud5Db2CWDlZNQ4gc6NevQ",
  agentName: "calendar-bot",
  ownerEmail: "ada@example.com",
  agentKey: "ak_Yxq0Xb7LrW2kVnP4tQ9sZ1cD8fG3hJ6mN0pR5uV7wY2aE4H2Uo3",
  verificationToken: "qMJmURy9ANOmxU9-mKblFlnKSnZffYi-cA7PKtJxBSQ",
  passport:
    "eyJhbGciOiJFZERTQSIsInR5cCI6ImFnZW50LXBhc3Nwb3J0K2p3dCIsImtpZCI6InRVanJQajFfWmgwN1dYX2J3MjJGbW5STzRYcnlOUGQwcHVWYTNZVEtoTFkifQ.e30.c2lnbmF0dXJl",
  passportId: "psp_3tYFGfYuLrTsmPfsHGhDbB",
  assessmentId: "asm_6qHn2UeR8wZtYx3VbPkLdM",
  webhookId: "whk_2Jx9QmTfVb7LcZr4NpWsHd",
  operatorEmail: "ada@acme.example",
  operatorPassword: "correct horse battery staple",
  passwordResetToken: "Rb8tY3nQw5KzV1mL7xPc2HdJ9sFg4TaU0eNo6WiXq3E",
  operatorVerificationToken: "Wc5nR2xTq8LmZ0vB4yKd7HsJ1gFa3PeU6tNo9XiQr2M",
  memberEmail: "grace@acme.example",
  memberOperatorId: "opr_5Gk2LmQw9XrTbY7cVnHs3D",
  orgId: "org_7Wd3KpZx1NqRtV8bLmFs6J",
  orgAgentId: "agt_9Tq4MvXc2RkWbN6hJzPd1L",
  apiKeyId: "key_8Hs5NdLw3PqZxT1cVmRk7B",
  refreshToken: "rt_Zk3m9QvX1bT7wYp2LcN8dRf4Hs6Jg0Ua5Ve3Kx9Mq1",
} as const;

/** A realistic timestamp for response examples. */
export const EXAMPLE_TIME = "2026-11-23T12:00:00.000Z";
