import actions from "../data/actions.json" with { type: "json" };
import commandData from "../data/command.json" with { type: "json" };
import exfiltrationData from "../data/exfiltration.json" with { type: "json" };
import financialData from "../data/financial.json" with { type: "json" };
import jailbreakData from "../data/jailbreak.json" with { type: "json" };
import networkData from "../data/network.json" with { type: "json" };
import normalizeData from "../data/normalize.json" with { type: "json" };
import pathData from "../data/path.json" with { type: "json" };
import piiData from "../data/pii.json" with { type: "json" };
import promptInjectionData from "../data/prompt-injection.json" with { type: "json" };
import secretsData from "../data/secrets.json" with { type: "json" };
import sqlData from "../data/sql.json" with { type: "json" };
import { createCommandLayer } from "./command.js";
import { createExfiltrationLayer } from "./exfiltration.js";
import { createFinancialLayer } from "./financial.js";
import { createJailbreakLayer } from "./jailbreak.js";
import { createNetworkLayer } from "./network.js";
import { createNormalizeLayer } from "./normalize.js";
import { createPathLayer } from "./path.js";
import { createPiiLayer } from "./pii.js";
import { createPolicyLayer } from "./policy.js";
import { createPromptInjectionLayer } from "./prompt-injection.js";
import { createSecretsLayer } from "./secrets.js";
import { createSqlLayer } from "./sql.js";
import type { Layer } from "./types.js";

/** The action-name table the pipeline classifies actions with. */
export const ACTION_TABLE_DATA: unknown = actions;

/**
 * The twelve layers in the order they run. Order never changes a decision (the combiner is
 * order-independent); it only orders the work, cheapest and most decisive first.
 */
export function buildLayers(): readonly Layer[] {
  return Object.freeze([
    createNormalizeLayer(normalizeData),
    createPolicyLayer(),
    createPathLayer(pathData),
    createCommandLayer(commandData),
    createNetworkLayer(networkData),
    createSqlLayer(sqlData),
    createPromptInjectionLayer(promptInjectionData),
    createJailbreakLayer(jailbreakData),
    createSecretsLayer(secretsData),
    // pii and exfiltration reuse the secrets scanner and destination rules, exfiltration the pii scanner.
    createPiiLayer(piiData, secretsData),
    createExfiltrationLayer(exfiltrationData, { secrets: secretsData, pii: piiData }),
    createFinancialLayer(financialData),
  ]);
}
