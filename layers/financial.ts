import RE2 from "re2";
import { z } from "zod";
import { done, evidenceOf, RuleFileSchema } from "./rules.js";
import type { Facts, Finding, Layer, ParamString, Severity, TextView } from "./types.js";

/** Every finding this layer can raise; data/financial.json gives each its texts. */
export const FINANCIAL_CODES = [
  "FIN_CRYPTO_DESTINATION",
  "FIN_CRYPTO_NEW_PAYEE",
  "FIN_CRYPTO_PAYMENT",
  "FIN_GIFT_CARD",
  "FIN_CHANGED_BANK_DETAILS",
  "FIN_NEW_PAYEE_PRESSURE",
  "FIN_PRESSURE_PATTERN",
  "FIN_APPROVAL_BYPASS",
  "FIN_PRESSURE_LANGUAGE",
  "FIN_STRUCTURING",
  "FIN_HARD_CEILING",
  "FIN_APPROVAL_REQUIRED",
  "FIN_NEW_PAYEE",
  "FIN_INSTRUCTION_FRAUD",
  "FIN_INSTRUCTION_SUSPICIOUS",
  "FIN_SCAM_PATTERN",
  "FIN_PAYEE_ADDED",
  "FIN_PAYEE_DETAILS_CHANGED",
  "FIN_REFUND_REDIRECT",
] as const;

export type FinancialCode = (typeof FINANCIAL_CODES)[number];

const PHRASE_GROUPS = [
  "urgency",
  "secrecy",
  "authority",
  "bypass",
  "giftCard",
  "changedDetails",
  "evasion",
  "splitting",
  "instruction",
  "newPayee",
  "cryptoWords",
  "scamStory",
  "cashPickup",
  "refundRedirect",
  "awareness",
  "channel",
  "deadline",
] as const;

type PhraseGroup = (typeof PHRASE_GROUPS)[number];

function compiles(pattern: string): boolean {
  try {
    new RE2(pattern, "u");
    return true;
  } catch {
    return false;
  }
}

const Pattern = z.string().min(1).refine(compiles, { message: "is not a valid RE2 pattern" });
const Keys = z.array(z.string().min(1));

/** data/financial.json: thresholds, currency table, key names, phrase groups, finding texts. */
export const FinancialDataSchema = RuleFileSchema.extend({
  maxInputChars: z.number().int().positive(),
  maxScanChars: z.number().int().positive(),
  /** Amounts at or above this (in the policy's currency) are blocked whatever else is true. */
  hardCeiling: z.number().positive(),
  /** Amounts in [ratio × approval, approval) count as "just under the threshold". */
  nearThresholdRatio: z.number().gt(0).lt(1),
  /** Rough rates to compare amounts in other currencies with the policy's threshold. */
  fxToUsd: z.record(z.string().regex(/^[A-Z]{3}$/), z.number().positive()),
  cryptoCurrencies: z.array(z.string().regex(/^[A-Z0-9]{2,6}$/)),
  cryptoAddresses: z.array(
    z.strictObject({
      id: z.string().min(1),
      pattern: Pattern,
      /** `destination` patterns are too generic for free text: only whole payee values. */
      scope: z.enum(["any", "destination"]),
    }),
  ),
  inboundActionTokens: Keys,
  /** Verbs that make an action money leaving even when it names an invoice or a request. */
  outboundActionTokens: Keys,
  /** Amount and currency keys in other languages (`importe`, `Betrag`, `moneda`). */
  amountKeys: Keys,
  currencyKeys: Keys,
  /** Action-name tokens that name money as the object (`payroll`, `bonus`, `crypto`). */
  moneyActionTokens: Keys,
  /** Objects that are money paid out by themselves (`bonus`, `stipend`) unless a read verb is there. */
  paidObjectTokens: Keys,
  readActionTokens: Keys,
  destinationKeys: Keys,
  newPayeeKeys: Keys,
  knownPayeeKeys: Keys,
  changedDetailsKeys: Keys,
  phrases: z.strictObject(
    Object.fromEntries(PHRASE_GROUPS.map((g) => [g, z.array(Pattern).min(1)])) as Record<
      PhraseGroup,
      z.ZodArray<typeof Pattern>
    >,
  ),
  payeeSetup: z.strictObject({
    $comment: z.string().optional(),
    newVerbs: Keys,
    changeVerbs: Keys,
    strongObjects: Keys,
    weakObjects: Keys,
    bankDetailKeys: Keys,
    /** Tokens of actions that bring money in (an invoice names our own account). */
    inboundTokens: Keys,
  }),
  /** Gift cards bought through a tool named for them (`buy_gift_cards`, `order_egift`). */
  giftCards: z.strictObject({
    $comment: z.string().optional(),
    actionTokens: Keys,
    quantityKeys: Keys,
    unitValueKeys: Keys,
    /** This many cards, or this much value in all, is a bulk buy. */
    bulkCount: z.number().int().positive(),
    bulkValue: z.number().positive(),
  }),
  refund: z.strictObject({
    $comment: z.string().optional(),
    actionTokens: Keys,
    originalKeys: Keys,
    destinationKeys: Keys,
  }),
  findings: z
    .record(
      z.enum(FINANCIAL_CODES),
      z.strictObject({
        severity: z.enum(["BLOCK", "WARN"]),
        confidence: z.number().min(0).max(1),
        message: z.string().min(1),
      }),
    )
    .refine((f) => FINANCIAL_CODES.every((code) => f[code] !== undefined), {
      message: "every financial finding code needs a severity, confidence and message",
    }),
});

export type FinancialData = z.infer<typeof FinancialDataSchema>;

type Hits = Partial<Record<PhraseGroup, string>>;

type Address = { re: RE2; scope: "any" | "destination" };

/** Lower-case key without separators: `Payee-Is-New` and `payeeIsNew` both read `payeeisnew`. */
function keyOf(key: string): string {
  let out = "";
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= 97 && c <= 122)) out += key[i];
    else if (c >= 65 && c <= 90) out += String.fromCharCode(c + 32);
  }
  return out;
}

function truthy(value: unknown): boolean | null {
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0;
  if (typeof value === "string") {
    const v = value.trim().toLowerCase();
    if (v === "true" || v === "yes" || v === "y" || v === "1" || v === "new") return true;
    if (
      v === "false" ||
      v === "no" ||
      v === "n" ||
      v === "0" ||
      v === "known" ||
      v === "existing"
    ) {
      return false;
    }
  }
  return null;
}

/** Reads flags from the top level and one nested object of params (bounded). */
function flagsOf(
  params: unknown,
  keys: ReadonlySet<string>,
): { value: boolean; key: string } | null {
  if (params === null || typeof params !== "object" || Array.isArray(params)) return null;
  const stack: Record<string, unknown>[] = [params as Record<string, unknown>];
  let visited = 0;
  while (stack.length > 0 && visited < 64) {
    const record = stack.pop()!;
    for (const k in record) {
      if (++visited > 256) return null;
      const v = record[k];
      if (keys.has(keyOf(k))) {
        const t = truthy(v);
        if (t !== null) return { value: t, key: k };
      } else if (v !== null && typeof v === "object" && !Array.isArray(v) && stack.length < 8) {
        stack.push(v as Record<string, unknown>);
      }
    }
  }
  return null;
}

/**
 * Layer 12: money leaving. Payments are judged on amount (against the policy's approval
 * amount and a hard ceiling), payee novelty, destination (crypto wallets) and the words
 * around them: the fraud patterns are combinations — a new payee plus urgency or secrecy,
 * gift cards, changed bank details, amounts split under the threshold. Messages and tool
 * output that instruct a payment are checked for the same markers.
 */
export function createFinancialLayer(input: unknown): Layer {
  const data = FinancialDataSchema.parse(input);
  const spec = data.findings;
  const groups = PHRASE_GROUPS.map((g) => {
    const patterns = data.phrases[g];
    return [g, new RE2(patterns.map((p) => `(?:${p})`).join("|"), "u")] as const;
  });
  // Confusable folding turns Cyrillic into look-alike Latin ("срочно" → "cpoчho"): the
  // patterns written in other scripts are matched again on the raw text, case-insensitively.
  const rawGroups = PHRASE_GROUPS.map((g) => {
    const patterns = data.phrases[g].filter(hasOtherScript);
    return patterns.length === 0 ? null : new RE2(patterns.map((p) => `(?:${p})`).join("|"), "iu");
  });
  const addresses: Address[] = data.cryptoAddresses.map((a) => ({
    re: new RE2(a.pattern, "u"),
    scope: a.scope,
  }));
  const crypto = new Set(data.cryptoCurrencies);
  const inbound = new Set(data.inboundActionTokens);
  const outbound = new Set(data.outboundActionTokens);
  const destinationKeys = new Set(data.destinationKeys.map(keyOf));
  const newKeys = new Set(data.newPayeeKeys.map(keyOf));
  const knownKeys = new Set(data.knownPayeeKeys.map(keyOf));
  const changedKeys = new Set(data.changedDetailsKeys.map(keyOf));
  const amountKeys = new Set(data.amountKeys.map(keyOf));
  const currencyKeys = new Set(data.currencyKeys.map(keyOf));
  const moneyTokens = new Set(data.moneyActionTokens);
  const paidTokens = new Set(data.paidObjectTokens);
  const readTokens = new Set(data.readActionTokens);

  // Short texts (memos, messages) are screened by one RE2.Set over every phrase; only the
  // groups it names are run alone, for their evidence. Long texts go group by group: the
  // combined automaton is large enough to thrash RE2's DFA cache on them.
  const allPhrases: string[] = [];
  const groupOfPhrase: number[] = [];
  PHRASE_GROUPS.forEach((g, k) => {
    for (const p of data.phrases[g]) {
      allPhrases.push(p);
      groupOfPhrase.push(k);
    }
  });
  const phraseSet = new RE2.Set(allPhrases, "u");
  const phrasesOf = (view: TextView, gate?: PhraseGroup, limit = data.maxScanChars): Hits => {
    const hits: Hits = {};
    const text = view.buf.subarray(0, limit);
    if (text.length === 0) return hits;
    const raw = view.raw.length > limit ? view.raw.slice(0, limit) : view.raw;
    // Non-ASCII raw text may hold a phrase that only matches before folding. Only short
    // texts (memos, messages) get this second pass, so long tool output costs one pass.
    const foreign = raw.length <= RAW_PASS_CHARS && Buffer.byteLength(raw, "utf8") !== raw.length;
    const gateIndex = gate === undefined ? -1 : PHRASE_GROUPS.indexOf(gate);
    // The gate's own pattern first: most texts fail it, and then no other group is run.
    let gated: string | undefined;
    if (gateIndex >= 0) {
      const m = groups[gateIndex]![1].exec(text);
      const r = m === null && foreign ? (rawGroups[gateIndex]?.exec(raw) ?? null) : null;
      gated = m !== null ? String(m[0]) : r !== null ? r[0] : undefined;
      if (gated === undefined) return hits;
      hits[gate!] = gated;
    }
    let candidate: boolean[] | null = null;
    if (text.length <= SET_SCREEN_BYTES) {
      candidate = new Array<boolean>(PHRASE_GROUPS.length).fill(false);
      for (const index of phraseSet.match(text)) candidate[groupOfPhrase[index]!] = true;
    }
    const find = (k: number): string | undefined => {
      if (candidate === null || candidate[k]) {
        const m = groups[k]![1].exec(text);
        if (m !== null) return String(m[0]);
      }
      const rawRe = rawGroups[k]!;
      const r = foreign && rawRe !== null ? rawRe.exec(raw) : null;
      return r === null ? undefined : r[0];
    };
    for (let k = 0; k < groups.length; k++) {
      if (k === gateIndex) continue;
      const hit = find(k);
      if (hit !== undefined) hits[groups[k]![0]] = hit;
    }
    return hits;
  };

  const anyAddress = new RE2.Set(
    data.cryptoAddresses.filter((a) => a.scope === "any").map((a) => a.pattern),
    "u",
  );
  const everyAddress = new RE2.Set(
    data.cryptoAddresses.map((a) => a.pattern),
    "u",
  );
  const addressIn = (text: string, set: InstanceType<typeof RE2.Set>, any: boolean) => {
    if (text === "" || !set.test(text)) return null;
    for (const a of addresses) {
      if (any && a.scope !== "any") continue;
      const m = a.re.exec(text);
      if (m !== null) return String(m[0]);
    }
    return null;
  };

  /** A crypto wallet in the target or a param: `any` formats anywhere, others as whole values. */
  const walletOf = (facts: Facts, destinations: readonly ParamString[]): string | null => {
    let wallet = addressIn(facts.target.raw, everyAddress, false);
    for (let k = 0; wallet === null && k < destinations.length; k++) {
      wallet = addressIn(destinations[k]!.value.raw, everyAddress, false);
    }
    return wallet ?? addressIn(facts.paramsText.raw, anyAddress, true);
  };

  /** Messages, prompts and tool output that tell someone to pay, with fraud markers. */
  const instruction = (
    facts: Facts,
    add: (code: FinancialCode, evidence: string) => void,
  ): void => {
    const hits = phrasesOf(facts.all, "instruction");
    if (hits.instruction === undefined) return;
    // A warning, a drill report, or a request to translate or classify a fraud message
    // mentions the script; it does not run it. "This is not a scam" is the script itself:
    // an awareness word inside the scam phrase does not count.
    const aware =
      hits.awareness !== undefined && !(hits.scamStory?.includes(hits.awareness) ?? false);
    if (aware && hits.scamStory === undefined) return;
    if (!aware) hits.awareness = undefined;
    const wallet = addressIn(facts.all.raw.slice(0, data.maxScanChars), anyAddress, true);
    const pressure = pressureOf(hits);
    // An unverifiable channel ("from a personal gmail", "claims to be") presses like urgency
    // does — unless the text is a warning about exactly that.
    if (hits.channel !== undefined && hits.awareness === undefined) pressure.push(hits.channel);
    const marker =
      hits.giftCard ?? hits.changedDetails ?? wallet ?? hits.cryptoWords ?? hits.cashPickup;
    // A scam script asking for money is the fraud itself — unless the text warns about it.
    if (hits.scamStory !== undefined && hits.awareness === undefined) {
      add("FIN_INSTRUCTION_FRAUD", `${hits.instruction} … ${hits.scamStory}`);
    } else if (
      (marker !== undefined || hits.newPayee !== undefined || hits.scamStory !== undefined) &&
      pressure.length > 0
    ) {
      add(
        "FIN_INSTRUCTION_FRAUD",
        `${hits.instruction} … ${marker ?? hits.scamStory ?? hits.newPayee} … ${pressure[0]}`,
      );
    } else if (hits.secrecy !== undefined && pressure.length >= 2) {
      add("FIN_INSTRUCTION_FRAUD", `${hits.instruction} … ${pressure.join("; ")}`);
    } else if (
      // A warning about fraud ("beware of gift card scams") names the markers without pressure.
      hits.awareness === undefined &&
      (marker !== undefined ||
        hits.bypass !== undefined ||
        hits.evasion !== undefined ||
        hits.scamStory !== undefined ||
        hits.refundRedirect !== undefined)
    ) {
      add(
        "FIN_INSTRUCTION_SUSPICIOUS",
        `${hits.instruction} … ${marker ?? hits.bypass ?? hits.evasion ?? hits.scamStory ?? hits.refundRedirect}`,
      );
    }
  };

  const setup = data.payeeSetup;
  const newVerbs = new Set(setup.newVerbs);
  const changeVerbs = new Set(setup.changeVerbs);
  const strongObjects = new Set(setup.strongObjects);
  const setupInbound = new Set(setup.inboundTokens);
  const bankKeys = setup.bankDetailKeys.map(keyOf);
  const refundTokens = new Set(data.refund.actionTokens);
  const gift = data.giftCards;
  const giftTokens = new Set(gift.actionTokens);
  const giftQuantityKeys = new Set(gift.quantityKeys.map(keyOf));
  const giftUnitKeys = new Set(gift.unitValueKeys.map(keyOf));

  /**
   * A gift-card purchase by action name: the scam's payout when bought in bulk, under
   * pressure, or for codes to hand to someone reached through an unverifiable channel.
   */
  const giftPurchase = (facts: Facts, add: (code: FinancialCode, evidence: string) => void) => {
    let named = false;
    for (const t of facts.actionName.split("_")) {
      // `list_gift_card_orders`, `get_gift_card_balance`: reading, not buying.
      if (readTokens.has(t)) return;
      if (giftTokens.has(t)) named = true;
    }
    if (!named) return;
    const count = numberUnder(facts.params, giftQuantityKeys) ?? 1;
    const unit = numberUnder(facts.params, giftUnitKeys) ?? 0;
    const hits = phrasesOf(facts.all, undefined, SET_SCREEN_BYTES);
    const pressure = pressureOf(hits);
    if (hits.channel !== undefined) pressure.push(hits.channel);
    if (count >= gift.bulkCount || count * unit >= gift.bulkValue || pressure.length > 0) {
      add(
        "FIN_GIFT_CARD",
        `${facts.action.raw} ×${count}${pressure.length > 0 ? ` … ${pressure[0]}` : ""}`,
      );
    }
  };
  const originalKeys = new Set(data.refund.originalKeys.map(keyOf));
  const refundDestKeys = new Set(data.refund.destinationKeys.map(keyOf));

  /**
   * A payee registered or a payee's bank details changed through an action of any name:
   * a verb (add, update…) with a money-specific object (payee, iban, payout…) or with
   * bank-detail keys in params.
   */
  const setupOf = (facts: Facts): { change: boolean; evidence: string } | null => {
    let verb: "new" | "change" | null = null;
    let object = false;
    let prev = "";
    for (const t of tokensOf(facts)) {
      if (setupInbound.has(t)) return null;
      if (changeVerbs.has(t)) verb = "change";
      else if (verb === null && newVerbs.has(t)) verb = "new";
      // Objects of one or two tokens: `payee`, `direct_deposit`, `bank_account`.
      if (strongObjects.has(t) || strongObjects.has(prev + t)) object = true;
      prev = t;
    }
    // A request the agent sends says by its method what it does to the resource.
    if (verb === null && facts.kind === "http" && facts.source === "agent") {
      const method = methodOf(facts.params);
      if (method === "put" || method === "patch") verb = "change";
      else if (method === "post") verb = "new";
    }
    const keyed = bankKeyOf(facts.params, bankKeys);
    // `new_iban`, `updated_account_number`: the key says the details replace others.
    const replaced = keyed !== null && (keyed.startsWith("new") || keyed.startsWith("updated"));
    if (verb === null && !replaced) return null;
    const bank = keyed ?? bankValueOf(facts.paramStrings);
    if (!object && bank === null) return null;
    return { change: verb === "change" || replaced, evidence: `${facts.action.raw} ${bank ?? ""}` };
  };

  /** Payee registration and bank-detail changes: WARN alone, BLOCK with pressure. */
  const judgeSetup = (
    facts: Facts,
    found: { change: boolean; evidence: string },
    destinations: readonly ParamString[],
    add: (code: FinancialCode, evidence: string) => void,
  ): void => {
    // The words that matter here are a short note or reason: the first screenful is read.
    const hits = phrasesOf(facts.all, undefined, SET_SCREEN_BYTES);
    const pressure = pressureOf(hits);
    const changed = flagsOf(facts.params, changedKeys);
    const change = found.change || hits.changedDetails !== undefined || changed?.value === true;
    if (hits.scamStory !== undefined) add("FIN_SCAM_PATTERN", hits.scamStory);
    if (hits.bypass !== undefined) add("FIN_APPROVAL_BYPASS", hits.bypass);
    // New details plus "pay the outstanding invoice to it" is invoice diversion; new details
    // asked for from a free-mail address, a chat or someone "claiming to be" the owner is
    // the account-takeover form of the same fraud.
    const channel = hits.channel !== undefined;
    // A same-day deadline ("before today's payroll run") leaves no time to call the owner back.
    const rushed = hits.deadline !== undefined;
    if (change && (pressure.length > 0 || hits.instruction !== undefined || channel || rushed)) {
      add(
        "FIN_CHANGED_BANK_DETAILS",
        [
          hits.changedDetails ?? found.evidence,
          hits.instruction,
          hits.channel,
          hits.deadline,
          ...pressure,
        ]
          .filter((x) => x !== undefined)
          .join(" … "),
      );
    } else if (!change && (pressure.length > 0 || channel)) {
      add("FIN_NEW_PAYEE_PRESSURE", [...pressure, hits.channel].join("; "));
    } else if (!change && hits.deadline !== undefined) {
      // "Add them and pay today": a payee that has to be paid before anyone can check it.
      add("FIN_NEW_PAYEE_PRESSURE", hits.deadline);
    }
    const wallet = walletOf(facts, destinations);
    if (wallet !== null) add("FIN_CRYPTO_NEW_PAYEE", wallet);
    add(change ? "FIN_PAYEE_DETAILS_CHANGED" : "FIN_PAYEE_ADDED", found.evidence);
  };

  /** A refund sent somewhere other than where the money came from. */
  const refundRedirect = (facts: Facts, hits: Hits): string | null => {
    let refund = false;
    for (const t of facts.actionName.split("_")) if (refundTokens.has(t)) refund = true;
    if (!refund) return null;
    if (hits.refundRedirect !== undefined) return hits.refundRedirect;
    const original = paramValueOf(facts.params, originalKeys);
    const destination = paramValueOf(facts.params, refundDestKeys);
    if (original === null || destination === null) return null;
    return sameInstrument(original, destination) ? null : `${original} → ${destination}`;
  };

  return {
    name: "financial",
    maxInputChars: data.maxInputChars,
    check(facts: Facts): readonly Finding[] {
      const found_: Finding[] = [];
      const add = (code: FinancialCode, evidence: string) => {
        for (const f of found_) if (f.code === code) return;
        const s = spec[code]!;
        found_.push({
          layer: "financial",
          code,
          severity: s.severity as Severity,
          confidence: s.confidence,
          message: s.message,
          evidence: evidenceOf(evidence),
        });
      };

      const destinations: ParamString[] = [];
      for (const p of facts.paramStrings)
        if (destinationKeys.has(keyOf(p.key))) destinations.push(p);
      // A fetch (an http GET: source "web") moves no money; other kinds are read as actions.
      const acting =
        facts.kind === "payment" ||
        facts.kind === "other" ||
        (facts.kind === "http" && facts.source === "agent");
      if (acting) giftPurchase(facts, add);
      // Amounts under keys the facts do not read (`importe`, `Betrag`) count too.
      const factAmounts = acting
        ? withLocalAmounts(facts, amountKeys, currencyKeys)
        : facts.amounts;
      const paymentLike =
        facts.kind === "payment" ||
        ((facts.kind === "http" || facts.kind === "other") &&
          factAmounts.length > 0 &&
          (destinations.length > 0 ||
            isRefund(facts.actionName, refundTokens, readTokens) ||
            movesMoney(facts.actionName, outbound, moneyTokens, paidTokens, readTokens)));

      // Registering a payee or changing bank details moves no money yet: judged on its own.
      if (
        factAmounts.length === 0 &&
        facts.kind !== "shell" &&
        facts.kind !== "code_exec" &&
        !facts.kind.startsWith("file_") &&
        facts.kind !== "tool_output" &&
        facts.kind !== "llm_prompt"
      ) {
        const found = setupOf(facts);
        if (found !== null) {
          judgeSetup(facts, found, destinations, add);
          return done(found_);
        }
      }

      if (!paymentLike) {
        if (
          facts.kind === "shell" ||
          facts.kind === "code_exec" ||
          facts.kind.startsWith("file_")
        ) {
          return done(found_);
        }
        instruction(facts, add);
        return done(found_);
      }

      // Money coming in (a payment request, an invoice) is not money leaving.
      if (
        (facts.kind === "payment" || facts.kind === "other") &&
        isInbound(facts.actionName, inbound, outbound)
      ) {
        return done(found_);
      }

      const hits = phrasesOf(facts.all);
      const newPayee = flagsOf(facts.params, newKeys);
      const knownPayee = flagsOf(facts.params, knownKeys);
      const changed = flagsOf(facts.params, changedKeys);
      // An explicit flag wins; without one, the words ("first payment to a new supplier") decide.
      const isNew =
        newPayee?.value === true ||
        knownPayee?.value === false ||
        (newPayee === null && knownPayee === null && hits.newPayee !== undefined);
      const payeeEvidence = facts.target.raw || destinations[0]?.value.raw || "payee";

      // Amounts in the policy's currency; crypto amounts are not converted (their risk is
      // the destination, judged below).
      const policyCurrency = facts.policy.financial.currency.toUpperCase();
      const approval = facts.policy.financial.approvalAmount;
      const ceiling = Math.max(data.hardCeiling, approval * 10);
      const topCurrency = currencyOf(facts, currencyKeys);
      // Paid in a crypto asset, by currency code or by the words around it.
      let cryptoAmount =
        (topCurrency !== null && crypto.has(topCurrency)) || hits.cryptoWords !== undefined;
      const amounts: number[] = [];
      // Amounts that are items of a list (`payments[2].amount`): a batch, the only place a
      // split shows and whose total counts.
      const batch: number[] = [];
      for (const a of factAmounts) {
        if (!Number.isFinite(a.value) || a.value <= 0) continue;
        const cur = (a.currency ?? topCurrency ?? policyCurrency).toUpperCase();
        if (crypto.has(cur)) {
          cryptoAmount = true;
          continue;
        }
        const rate = data.fxToUsd[cur];
        const base = data.fxToUsd[policyCurrency];
        const value = rate !== undefined && base !== undefined ? (a.value * rate) / base : a.value;
        amounts.push(value);
        if (a.path.includes("[")) batch.push(value);
      }
      const top = amounts.length === 0 ? 0 : Math.max(...amounts);

      // Fraud patterns: BLOCK.
      const wallet = walletOf(facts, destinations);
      if (wallet !== null) add("FIN_CRYPTO_DESTINATION", wallet);
      else if (cryptoAmount && isNew) {
        add("FIN_CRYPTO_NEW_PAYEE", hits.cryptoWords ?? topCurrency ?? "crypto");
      } else if (cryptoAmount)
        add("FIN_CRYPTO_PAYMENT", hits.cryptoWords ?? topCurrency ?? "crypto");

      if (hits.giftCard !== undefined) add("FIN_GIFT_CARD", hits.giftCard);
      // Scam scripts, and cash-pickup services (Western Union, MoneyGram…) under pressure.
      const pressureNow = pressureOf(hits);
      if (hits.scamStory !== undefined) add("FIN_SCAM_PATTERN", hits.scamStory);
      else if (hits.cashPickup !== undefined && pressureNow.length > 0) {
        add("FIN_SCAM_PATTERN", `${hits.cashPickup} … ${pressureNow[0]}`);
      }
      const redirected = refundRedirect(facts, hits);
      if (redirected !== null) add("FIN_REFUND_REDIRECT", redirected);
      if (hits.changedDetails !== undefined) add("FIN_CHANGED_BANK_DETAILS", hits.changedDetails);
      else if (changed?.value === true) add("FIN_CHANGED_BANK_DETAILS", changed.key);

      // Pressure is what impersonation fraud runs on. With a new payee it is the pattern;
      // with a payee the caller says is known, it takes two kinds of pressure to ask a human.
      const pressure = pressureOf(hits);
      const isKnown = newPayee?.value === false || knownPayee?.value === true;
      // A deadline ("due today") is routine for a known biller, pressure for a new payee.
      // So is a new payee asked for through an unverifiable channel (a free-mail sender, a chat).
      if (
        isNew &&
        (pressure.length > 0 || hits.deadline !== undefined || hits.channel !== undefined)
      ) {
        add(
          "FIN_NEW_PAYEE_PRESSURE",
          pressure.concat(hits.deadline ?? [], hits.channel ?? []).join("; "),
        );
      } else if (hits.bypass !== undefined) add("FIN_APPROVAL_BYPASS", hits.bypass);
      else if (pressure.length >= 2) {
        add(isKnown ? "FIN_PRESSURE_LANGUAGE" : "FIN_PRESSURE_PATTERN", pressure.join("; "));
      } else if (pressure.length === 1 && !isKnown && (top > 0 || destinations.length > 0)) {
        add("FIN_PRESSURE_LANGUAGE", pressure[0]!);
      }

      const near = approval * data.nearThresholdRatio;
      let underCount = 0;
      let sum = 0;
      for (const v of batch) {
        sum += v;
        if (v >= near && v < approval) underCount++;
      }
      const single = amounts.some((v) => v >= near && v < approval);
      if (hits.evasion !== undefined) add("FIN_STRUCTURING", hits.evasion);
      else if (underCount >= 2 && sum >= approval) {
        add("FIN_STRUCTURING", `${underCount} payments under ${approval}`);
      } else if (hits.splitting !== undefined && single) {
        add("FIN_STRUCTURING", hits.splitting);
      }

      if (top >= ceiling) add("FIN_HARD_CEILING", `${cents(top)} ≥ ${ceiling} ${policyCurrency}`);
      else if (top >= approval || sum >= approval) {
        add(
          "FIN_APPROVAL_REQUIRED",
          `${cents(Math.max(top, sum))} ≥ ${approval} ${policyCurrency}`,
        );
      }
      if (isNew) add("FIN_NEW_PAYEE", payeeEvidence);
      return done(found_);
    },
  };
}

/** Texts up to this many bytes are screened by one RE2.Set before any group runs. */
const SET_SCREEN_BYTES = 8192;

/** Texts longer than this get no raw-text pass for non-Latin phrases. */
const RAW_PASS_CHARS = 4096;

/** A pattern with letters beyond Latin and Latin-1 (Cyrillic, Greek, CJK…). */
function hasOtherScript(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) if (pattern.charCodeAt(i) >= 0x370) return true;
  return false;
}

/** An amount converted between currencies, rounded to cents for evidence. */
function cents(value: number): number {
  return Math.round(value * 100) / 100;
}

/** The pressure phrases found, in a fixed order. */
function pressureOf(hits: Hits): string[] {
  const out: string[] = [];
  if (hits.urgency !== undefined) out.push(hits.urgency);
  if (hits.secrecy !== undefined) out.push(hits.secrecy);
  if (hits.authority !== undefined) out.push(hits.authority);
  if (hits.bypass !== undefined) out.push(hits.bypass);
  return out;
}

/** `request_payment`, `collect_invoice`: money coming in, unless a paying verb says otherwise. */
function isInbound(
  actionName: string,
  inbound: ReadonlySet<string>,
  outbound: ReadonlySet<string>,
): boolean {
  let incoming = false;
  for (const token of actionName.split("_")) {
    if (outbound.has(token)) return false;
    if (inbound.has(token)) incoming = true;
  }
  return incoming;
}

/** The currency the params name (a top-level or nested `currency`, `moneda`…), upper case. */
function currencyOf(facts: Facts, keys: ReadonlySet<string>): string | null {
  for (const p of facts.paramStrings) {
    if (keys.has(keyOf(p.key))) {
      const v = p.value.raw.trim().toUpperCase();
      if (v.length >= 2 && v.length <= 6) return v;
    }
  }
  for (const a of facts.amounts) if (a.currency !== null) return a.currency.toUpperCase();
  return null;
}

type LocalAmount = { value: number; currency: string | null; path: string };

/**
 * The facts' amounts plus those under `keys` (amount words in other languages), read from
 * numbers or from texts like "27.900,00 EUR" (bounded walk of the params).
 */
function withLocalAmounts(
  facts: Facts,
  keys: ReadonlySet<string>,
  currencyKeys: ReadonlySet<string>,
): readonly LocalAmount[] {
  const params = facts.params;
  if (params === null || typeof params !== "object") return facts.amounts;
  let extra: LocalAmount[] | null = null;
  const stack: { v: unknown; path: string }[] = [{ v: params, path: "" }];
  let visited = 0;
  while (stack.length > 0 && visited < 256) {
    const { v, path } = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    let currency: string | null = null;
    for (const k in v as Record<string, unknown>) {
      const child = (v as Record<string, unknown>)[k];
      if (typeof child === "string" && currencyKeys.has(keyOf(k))) {
        const c = child.trim().toUpperCase();
        if (c.length >= 2 && c.length <= 6) currency = c;
      }
    }
    for (const k in v as Record<string, unknown>) {
      if (++visited > 256) break;
      const child = (v as Record<string, unknown>)[k];
      const at = Array.isArray(v) ? `${path}[${k}]` : path === "" ? k : `${path}.${k}`;
      if (keys.has(keyOf(k))) {
        const parsed =
          typeof child === "number"
            ? { value: child, currency: null }
            : typeof child === "string"
              ? localAmount(child)
              : null;
        if (parsed !== null && Number.isFinite(parsed.value) && parsed.value > 0) {
          extra ??= [];
          extra.push({ value: parsed.value, currency: parsed.currency ?? currency, path: at });
        }
      } else if (child !== null && typeof child === "object" && stack.length < 16) {
        stack.push({ v: child, path: at });
      }
    }
  }
  return extra === null ? facts.amounts : [...facts.amounts, ...extra];
}

/**
 * "27.900,00 EUR", "€ 1,250.50", "36500": the number (the last `.` or `,` followed by one
 * or two digits is the decimal mark) and a three-letter code or symbol if present.
 */
function localAmount(text: string): { value: number; currency: string | null } | null {
  if (text.length > 40) return null;
  let digits = "";
  let decimalAt = -1;
  let currency: string | null = null;
  let letters = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isDigitCode(c)) digits += text[i];
    else if (c === 46 || c === 44) {
      let after = 0;
      while (isDigitCode(text.charCodeAt(i + 1 + after))) after++;
      if (after >= 1 && after <= 2 && digits !== "") decimalAt = digits.length;
    } else if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) letters += text[i];
    else if (c === 0x20ac) currency = "EUR";
    else if (c === 36) currency = "USD";
    else if (c === 0xa3) currency = "GBP";
  }
  if (digits === "" || digits.length > 15) return null;
  if (letters.length === 3) currency = letters.toUpperCase();
  else if (letters.length > 0 && currency === null && letters.length > 6) return null;
  const whole = decimalAt < 0 ? digits : `${digits.slice(0, decimalAt)}.${digits.slice(decimalAt)}`;
  return { value: Number(whole), currency };
}

/** `stripe_refunds_create`, `issue_refund`: a refund is money leaving, unless only read. */
function isRefund(
  actionName: string,
  refund: ReadonlySet<string>,
  read: ReadonlySet<string>,
): boolean {
  let named = false;
  for (const token of actionName.split("_")) {
    if (read.has(token)) return false;
    if (refund.has(token)) named = true;
  }
  return named;
}

/** An action that moves money by its name: a paying verb, or a verb with a money object. */
function movesMoney(
  actionName: string,
  outbound: ReadonlySet<string>,
  money: ReadonlySet<string>,
  paid: ReadonlySet<string>,
  read: ReadonlySet<string>,
): boolean {
  let verb = false;
  let object = false;
  let paidObject = false;
  for (const token of actionName.split("_")) {
    if (read.has(token)) return false;
    if (outbound.has(token)) verb = true;
    if (money.has(token)) object = true;
    if (paid.has(token)) paidObject = true;
  }
  return (verb && object) || paidObject;
}

/**
 * Action-name tokens; for a request the agent sends, the words of the target URL's path
 * instead (the action of an HTTP tool, `http_request`, names the transport, not the object).
 */
function tokensOf(facts: Facts): string[] {
  if (facts.kind !== "http") return facts.actionName.split("_");
  const tokens: string[] = [];
  if (facts.source !== "agent") return tokens;
  for (const u of facts.urls) {
    if (u.field !== "target") continue;
    let start = 0;
    const path = u.path;
    for (let i = 0; i <= path.length && tokens.length < 32; i++) {
      const c = i < path.length ? path.charCodeAt(i) : 47;
      if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) continue;
      if (i > start) tokens.push(path.slice(start, i));
      start = i + 1;
    }
  }
  return tokens;
}

/** The first params key (any depth, bounded) that names a bank detail: `new_iban`, `routingNumber`. */
function bankKeyOf(params: unknown, bankKeys: readonly string[]): string | null {
  if (params === null || typeof params !== "object") return null;
  const stack: unknown[] = [params];
  let visited = 0;
  while (stack.length > 0 && visited < 256) {
    const v = stack.pop();
    if (v === null || typeof v !== "object") continue;
    for (const k in v as Record<string, unknown>) {
      if (++visited > 256) return null;
      const child = (v as Record<string, unknown>)[k];
      if (child !== null && child !== "" && child !== undefined) {
        const hit = keyWindow(k, bankKeys);
        if (hit !== null) return keyOf(k);
      }
      if (child !== null && typeof child === "object" && stack.length < 16) stack.push(child);
    }
  }
  return null;
}

/**
 * Whether some run of consecutive words of a key (split at `_ - .` and camelCase) spells one
 * of `names`: `new_account_number` holds `accountnumber`, `database` does not hold `aba`.
 */
function keyWindow(key: string, names: readonly string[]): string | null {
  const words: string[] = [];
  let word = "";
  for (let i = 0; i < key.length && i < 64; i++) {
    const c = key.charCodeAt(i);
    const upper = c >= 65 && c <= 90;
    const lower = (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
    if (!upper && !lower) {
      if (word !== "") words.push(word);
      word = "";
      continue;
    }
    if (upper && word !== "" && !(key.charCodeAt(i - 1) >= 65 && key.charCodeAt(i - 1) <= 90)) {
      words.push(word);
      word = "";
    }
    word += upper ? String.fromCharCode(c + 32) : key[i];
  }
  if (word !== "") words.push(word);
  for (let a = 0; a < words.length; a++) {
    let joined = "";
    for (let b = a; b < words.length && b < a + 4; b++) {
      joined += words[b];
      if (names.includes(joined)) return joined;
    }
  }
  return null;
}

/** The first number (or numeric text) under one of `keys` (any depth, bounded). */
function numberUnder(params: unknown, keys: ReadonlySet<string>): number | null {
  const text = paramValueOf(params, keys);
  if (text === null) return null;
  const parsed = localAmount(text);
  return parsed === null ? null : parsed.value;
}

/** The first string or number under one of `keys` (any depth, bounded), as text. */
function paramValueOf(params: unknown, keys: ReadonlySet<string>): string | null {
  if (params === null || typeof params !== "object") return null;
  const stack: unknown[] = [params];
  let visited = 0;
  while (stack.length > 0 && visited < 256) {
    const v = stack.pop();
    if (v === null || typeof v !== "object") continue;
    for (const k in v as Record<string, unknown>) {
      if (++visited > 256) return null;
      const child = (v as Record<string, unknown>)[k];
      if (keys.has(keyOf(k)) && (typeof child === "string" || typeof child === "number")) {
        const text = String(child).trim();
        if (text !== "") return text;
      }
      if (child !== null && typeof child === "object" && stack.length < 16) stack.push(child);
    }
  }
  return null;
}

/**
 * Whether a refund destination is the original instrument: the same text, a pointer back to
 * it ("original", "same card"), or the same last four digits.
 */
function sameInstrument(original: string, destination: string): boolean {
  const a = alnumOf(original);
  const b = alnumOf(destination);
  if (a === b || b.includes("original") || b.includes("same") || b.includes("source")) return true;
  const digits = digitsOf(original);
  if (digits.length >= 4 && digitsOf(destination).endsWith(digits.slice(-4))) return true;
  // No digits to compare ("visa" → "card on file"): nothing says it moved.
  return digits.length === 0 && digitsOf(destination).length === 0;
}

function alnumOf(text: string): string {
  let out = "";
  for (const ch of text.toLowerCase()) {
    const c = ch.charCodeAt(0);
    if ((c >= 48 && c <= 57) || (c >= 97 && c <= 122)) out += ch;
  }
  return out;
}

function digitsOf(text: string): string {
  let out = "";
  for (const ch of text) if (ch >= "0" && ch <= "9") out += ch;
  return out;
}

/** The HTTP method named in params, lower case. */
function methodOf(params: unknown): string {
  if (params === null || typeof params !== "object" || Array.isArray(params)) return "";
  const m = (params as Record<string, unknown>).method;
  return typeof m === "string" ? m.trim().toLowerCase() : "";
}

/**
 * A param value that is bank details whatever its key: a valid IBAN (ISO 13616 mod-97), or
 * an account-like key (`payroll_account`) holding a long number.
 */
function bankValueOf(strings: readonly ParamString[]): string | null {
  for (let k = 0; k < strings.length && k < 64; k++) {
    const p = strings[k]!;
    const v = p.value.raw;
    if (v.length <= 42 && isIban(v)) return "iban";
    const key = keyOf(p.key);
    if ((key.includes("account") || key.includes("acct")) && digitsOf(v).length >= 6) return key;
  }
  return null;
}

/** ISO 13616: two letters, two check digits, up to 30 letters or digits; mod 97 equals 1. */
function isIban(text: string): boolean {
  const compact = alnumOf(text).toUpperCase();
  if (compact.length < 15 || compact.length > 34) return false;
  const c0 = compact.charCodeAt(0);
  const c1 = compact.charCodeAt(1);
  if (c0 < 65 || c0 > 90 || c1 < 65 || c1 > 90) return false;
  if (!isDigitCode(compact.charCodeAt(2)) || !isDigitCode(compact.charCodeAt(3))) return false;
  const moved = compact.slice(4) + compact.slice(0, 4);
  let rest = 0;
  for (let i = 0; i < moved.length; i++) {
    const c = moved.charCodeAt(i);
    if (isDigitCode(c)) rest = (rest * 10 + (c - 48)) % 97;
    else rest = (rest * 100 + (c - 55)) % 97;
  }
  return rest === 1;
}

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}
