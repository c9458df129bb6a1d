import RE2 from "re2";
import { z } from "zod";
import { compileRules, done, evidenceOf, RuleFileSchema } from "./rules.js";
import {
  Re2PatternSchema,
  SecretsDataSchema,
  type Sink,
  type SinkInfo,
  type Strength,
  sharedSinkClassifier,
} from "./secrets.js";
import type { Facts, Finding, Layer, Severity } from "./types.js";

const StrengthSchema = z.enum(["strong", "medium", "weak"]);
const ActionSchema = z.tuple([z.enum(["BLOCK", "WARN"]), z.number().min(0).max(1)]).nullable();
const RowSchema = z.strictObject({
  strong: ActionSchema,
  medium: ActionSchema,
  weak: ActionSchema,
});

const ID_CHECKS = [
  "us_ssn",
  "uk_nino",
  "fr_insee",
  "de_tax_id",
  "es_dni",
  "es_nie",
  "it_cf",
  "nl_bsn",
  "in_aadhaar",
  "ca_sin",
  "br_cpf",
  "pl_pesel",
  "cn_rid",
  "se_pnr",
  "ch_ahv",
  "sg_nric",
  "au_tfn",
  "be_nrn",
  "kr_rrn",
  "mx_curp",
  "uk_nhs",
  "us_itin",
  "us_aba",
  "mrz",
  "has_digits",
] as const;
type IdCheck = (typeof ID_CHECKS)[number];

const PII_TYPES = [
  "card",
  "iban",
  "bank_account",
  "national_id",
  "contacts",
  "special",
  "dob",
] as const;

export const PiiDataSchema = RuleFileSchema.extend({
  maxInputChars: z.number().int().positive(),
  recipientParamKeys: z.array(z.string()),
  /**
   * Unknown tools whose purpose is to hand identity data to the party that needs it (booking a
   * flight, a KYC check): like a payment carrying a card, that is the tool working, not a leak.
   */
  purposeActionTokens: z.array(z.string()).default([]),
  cards: z.strictObject({
    pattern: Re2PatternSchema,
    contextPattern: Re2PatternSchema,
    contextWindow: z.number().int().positive(),
    brands: z.array(
      z.strictObject({
        brand: z.string(),
        ranges: z.array(z.tuple([z.string().regex(/^\d+$/), z.string().regex(/^\d+$/)])),
        lengths: z.array(z.number().int().min(12).max(19)),
      }),
    ),
    $testNumbersComment: z.string().optional(),
    testNumbers: z.array(z.string().regex(/^\d{12,19}$/)),
  }),
  iban: z.strictObject({
    pattern: Re2PatternSchema,
    invoiceContextPattern: Re2PatternSchema,
    /** An invoice names at most this many of its issuer's accounts; more are a list of records. */
    invoiceMaxAccounts: z.number().int().min(1).default(2),
    lengths: z.record(z.string().regex(/^[A-Z]{2}$/), z.number().int().min(15).max(34)),
  }),
  nationalIds: z.array(
    z.strictObject({
      id: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
      label: z.string(),
      pattern: Re2PatternSchema,
      check: z.enum(ID_CHECKS),
      /** Words that make the number what it looks like; empty when the pattern already has them. */
      keywords: z.union([z.literal(""), Re2PatternSchema]),
      withKeyword: StrengthSchema,
      withoutKeyword: StrengthSchema.nullable(),
      /** What the number is when not a national identifier (a bank routing number). */
      type: z.enum(["national_id", "bank_account"]).optional(),
    }),
  ),
  keywordWindow: z.number().int().positive(),
  knownFakeSsns: z.array(z.string()),
  ninoInvalidPrefixes: z.array(z.string()),
  $ninoExampleComment: z.string().optional(),
  ninoExamplePrefixes: z.array(z.string()),
  dob: z.strictObject({ pattern: Re2PatternSchema }),
  $identityKitComment: z.string().optional(),
  addressPattern: Re2PatternSchema,
  personNounPattern: Re2PatternSchema,
  personNamePattern: Re2PatternSchema,
  anchorWindow: z.number().int().positive(),
  specialCategories: z.array(
    z.strictObject({ category: z.string(), label: z.string(), pattern: Re2PatternSchema }),
  ),
  specialExclusions: z.array(z.string()),
  contacts: z.strictObject({
    emailPattern: Re2PatternSchema,
    phonePattern: Re2PatternSchema,
    roleLocalParts: z.array(z.string()),
    headerPattern: Re2PatternSchema,
    moreRowsPattern: Re2PatternSchema,
    minRecordsWithHeader: z.number().int().positive(),
    minRecords: z.number().int().positive(),
    minRecordsWeak: z.number().int().positive(),
    minDistinct: z.number().int().positive(),
    maxMatches: z.number().int().positive(),
  }),
  severities: z.strictObject({
    $comment: z.string().optional(),
    public: RowSchema,
    external: RowSchema,
    model: RowSchema,
    note: RowSchema,
    local: RowSchema,
    store: RowSchema,
    incoming: RowSchema,
  }),
  /** Kinds of personal data that together make an identity kit, and how many kinds it takes. */
  identityKit: z.strictObject({
    $comment: z.string().optional(),
    types: z.array(z.enum(PII_TYPES)),
    minTypes: z.number().int().min(2),
  }),
  /** Distinct records of one kind that raise the match one step, and that make it certain. */
  bulk: z.strictObject({
    $comment: z.string().optional(),
    raiseRecords: z.number().int().min(2),
    strongRecords: z.number().int().min(2),
  }),
  cardInNote: z.tuple([z.enum(["BLOCK", "WARN"]), z.number().min(0).max(1)]),
  /** Kinds of personal data worth a WARN when pasted into a prompt. */
  modelTypes: z.array(z.enum(PII_TYPES)),
  /**
   * A prompt carrying clear identifiers of several kinds (a card and an SSN) or a list of them
   * hands a model provider an identity kit or a data set: that is a leak, not a question.
   */
  modelKit: z
    .strictObject({
      $comment: z.string().optional(),
      types: z.array(z.enum(PII_TYPES)),
      minTypes: z.number().int().min(2),
      minRecords: z.number().int().min(2),
      action: z.tuple([z.enum(["BLOCK", "WARN"]), z.number().min(0).max(1)]),
    })
    .optional(),
  /**
   * Tables whose header names an identifier column (`name,ssn,salary`): the header is the
   * context a bare number in that column needs, however far it is from the value.
   */
  columns: z
    .strictObject({
      $comment: z.string().optional(),
      /** A line that could be such a header (prefilter). */
      headerPattern: Re2PatternSchema,
      specs: z.array(
        z.strictObject({
          /** Matched against one header cell, trimmed and lower case. */
          cell: Re2PatternSchema,
          check: z.enum(ID_CHECKS),
          label: z.string(),
          type: z.enum(["national_id", "bank_account"]).default("national_id"),
        }),
      ),
      maxRows: z.number().int().positive().default(50),
    })
    .optional(),
});
export type PiiData = z.infer<typeof PiiDataSchema>;

// ---------------------------------------------------------------------------------------------
// Checksums (pure, exported for tests and the exfiltration layer).

function digitsOf(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) out += text[i];
  }
  return out;
}

/** Luhn (mod 10) over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** ISO 13616 IBAN check: move the first four characters to the end, letters to numbers, mod 97 = 1. */
export function ibanValid(iban: string): boolean {
  const s = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) rem = (rem * 100 + (c - 55)) % 97;
    else return false;
  }
  return rem === 1;
}

function allSame(digits: string): boolean {
  for (let i = 1; i < digits.length; i++) if (digits[i] !== digits[0]) return false;
  return true;
}

/** SSA rules: area 001–899 except 666, group 01–99, serial 0001–9999. */
export function ssnValid(digits: string): boolean {
  if (digits.length !== 9) return false;
  const area = Number(digits.slice(0, 3));
  const group = Number(digits.slice(3, 5));
  const serial = Number(digits.slice(5));
  return area !== 0 && area !== 666 && area < 900 && group !== 0 && serial !== 0;
}

const NINO_FIRST_BAD = new Set(["D", "F", "I", "Q", "U", "V"]);
const NINO_SECOND_BAD = new Set(["D", "F", "I", "O", "Q", "U", "V"]);

/** INSEE/NIR: key = 97 − (first 13 digits mod 97); Corsica 2A/2B count as 19/18. */
export function inseeValid(compact: string): boolean {
  if (compact.length !== 15) return false;
  const body = compact.slice(0, 13).replace("2A", "19").replace("2B", "18");
  let rem = 0;
  for (let i = 0; i < body.length; i++) {
    const d = body.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    rem = (rem * 10 + d) % 97;
  }
  return 97 - rem === Number(compact.slice(13));
}

/** German Steuer-ID: ISO 7064 MOD 11,10 and one digit repeated two or three times in the first ten. */
export function deTaxIdValid(digits: string): boolean {
  if (digits.length !== 11 || digits[0] === "0") return false;
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < 10; i++) counts[digits.charCodeAt(i) - 48]!++;
  let repeated = 0;
  for (const n of counts) {
    if (n > 3) return false;
    if (n >= 2) repeated++;
  }
  if (repeated !== 1) return false;
  let product = 10;
  for (let i = 0; i < 10; i++) {
    let sum = (digits.charCodeAt(i) - 48 + product) % 10;
    if (sum === 0) sum = 10;
    product = (sum * 2) % 11;
  }
  let check = 11 - product;
  if (check === 10) check = 0;
  return check === digits.charCodeAt(10) - 48;
}

const DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE";

/** Spanish DNI/NIE control letter: number mod 23. */
export function dniValid(number: string, letter: string): boolean {
  return DNI_LETTERS[Number(number) % 23] === letter;
}

const CF_ODD: Readonly<Record<string, number>> = {
  "0": 1,
  "1": 0,
  "2": 5,
  "3": 7,
  "4": 9,
  "5": 13,
  "6": 15,
  "7": 17,
  "8": 19,
  "9": 21,
  A: 1,
  B: 0,
  C: 5,
  D: 7,
  E: 9,
  F: 13,
  G: 15,
  H: 17,
  I: 19,
  J: 21,
  K: 2,
  L: 4,
  M: 18,
  N: 20,
  O: 11,
  P: 3,
  Q: 6,
  R: 8,
  S: 12,
  T: 14,
  U: 16,
  V: 10,
  W: 22,
  X: 25,
  Y: 24,
  Z: 23,
};

/** Italian codice fiscale control character. */
export function codiceFiscaleValid(cf: string): boolean {
  if (cf.length !== 16) return false;
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    const ch = cf[i]!;
    const c = ch.charCodeAt(0);
    if (i % 2 === 0) {
      const v = CF_ODD[ch];
      if (v === undefined) return false;
      sum += v;
    } else sum += c >= 48 && c <= 57 ? c - 48 : c - 65;
  }
  return String.fromCharCode(65 + (sum % 26)) === cf[15];
}

/** Dutch BSN eleven-test. */
export function bsnValid(digits: string): boolean {
  const d = digits.padStart(9, "0");
  if (d.length !== 9 || allSame(d)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (d.charCodeAt(i) - 48) * (9 - i);
  sum -= d.charCodeAt(8) - 48;
  return sum % 11 === 0;
}

const VERHOEFF_D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
  [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
  [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
  [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
  [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
  [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/** Verhoeff check (Aadhaar). */
export function verhoeffValid(digits: string): boolean {
  let c = 0;
  for (let i = 0; i < digits.length; i++) {
    const d = digits.charCodeAt(digits.length - 1 - i) - 48;
    c = VERHOEFF_D[c]![VERHOEFF_P[i % 8]![d]!]!;
  }
  return c === 0;
}

/** Brazilian CPF: two mod-11 check digits. */
export function cpfValid(digits: string): boolean {
  if (digits.length !== 11 || allSame(digits)) return false;
  const d = (i: number) => digits.charCodeAt(i) - 48;
  let s = 0;
  for (let i = 0; i < 9; i++) s += d(i) * (10 - i);
  if (((s * 10) % 11) % 10 !== d(9)) return false;
  s = 0;
  for (let i = 0; i < 10; i++) s += d(i) * (11 - i);
  return ((s * 10) % 11) % 10 === d(10);
}

/** Polish PESEL: weights 1-3-7-9. */
export function peselValid(digits: string): boolean {
  if (digits.length !== 11) return false;
  const w = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3];
  let s = 0;
  for (let i = 0; i < 10; i++) s += (digits.charCodeAt(i) - 48) * w[i]!;
  return (10 - (s % 10)) % 10 === digits.charCodeAt(10) - 48;
}

/** Chinese resident identity number: ISO 7064 MOD 11-2. */
export function chineseIdValid(id: string): boolean {
  if (id.length !== 18) return false;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let s = 0;
  for (let i = 0; i < 17; i++) s += (id.charCodeAt(i) - 48) * w[i]!;
  return "10X98765432"[s % 11] === id[17];
}

function luhnTen(digits: string): boolean {
  return digits.length >= 10 && luhnValid(digits.slice(-10));
}

/** Swiss AHV/AVS number: 13 digits starting 756, EAN-13 check digit. */
export function ahvValid(digits: string): boolean {
  if (digits.length !== 13 || !digits.startsWith("756")) return false;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += (digits.charCodeAt(i) - 48) * (i % 2 === 0 ? 1 : 3);
  return (10 - (sum % 10)) % 10 === digits.charCodeAt(12) - 48;
}

const NRIC_WEIGHTS = [2, 7, 6, 5, 4, 3, 2];
const NRIC_ST = "JZIHGFEDCBA";
const NRIC_FG = "XWUTRQPNMLK";
const NRIC_M = "XWUTRQPNJLK";

/** Singapore NRIC/FIN: weighted mod 11 check letter, with offsets by prefix (S/T, F/G, M). */
export function nricValid(id: string): boolean {
  const v = id.toUpperCase();
  if (v.length !== 9) return false;
  const prefix = v[0]!;
  let sum = 0;
  for (let i = 0; i < 7; i++) {
    const d = v.charCodeAt(i + 1) - 48;
    if (d < 0 || d > 9) return false;
    sum += d * NRIC_WEIGHTS[i]!;
  }
  if (prefix === "T" || prefix === "G") sum += 4;
  if (prefix === "M") sum += 3;
  const table = prefix === "S" || prefix === "T" ? NRIC_ST : prefix === "M" ? NRIC_M : NRIC_FG;
  if (prefix === "M") return table[10 - (sum % 11)] === v[8];
  return table[sum % 11] === v[8];
}

/** Australian tax file number: weights 1 4 3 7 5 8 6 9 10, sum mod 11 = 0. */
export function tfnValid(digits: string): boolean {
  if (digits.length !== 9) return false;
  const w = [1, 4, 3, 7, 5, 8, 6, 9, 10];
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (digits.charCodeAt(i) - 48) * w[i]!;
  return sum % 11 === 0;
}

/** Belgian national register number: 97 − (first nine digits mod 97), "2" prefixed after 2000. */
export function belgianNrnValid(digits: string): boolean {
  if (digits.length !== 11) return false;
  const body = Number(digits.slice(0, 9));
  const check = Number(digits.slice(9));
  return 97 - (body % 97) === check || 97 - ((2_000_000_000 + body) % 97) === check;
}

/** Korean resident registration number (issued before 2020): weighted mod 11. */
export function koreanRrnValid(digits: string): boolean {
  if (digits.length !== 13) return false;
  const w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5];
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += (digits.charCodeAt(i) - 48) * w[i]!;
  return (11 - (sum % 11)) % 10 === digits.charCodeAt(12) - 48;
}

const CURP_ALPHABET = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ";

/** Mexican CURP: the 18th character is a weighted mod 10 check over the first 17. */
export function curpValid(curp: string): boolean {
  const v = curp.toUpperCase();
  if (v.length !== 18) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const n = CURP_ALPHABET.indexOf(v[i]!);
    if (n < 0) return false;
    sum += n * (18 - i);
  }
  return (10 - (sum % 10)) % 10 === v.charCodeAt(17) - 48;
}

/** NHS number: ten digits, weights 10…2, mod 11 check (10 is never issued). */
export function nhsValid(digits: string): boolean {
  if (digits.length !== 10) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (digits.charCodeAt(i) - 48) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) return false;
  return (check === 11 ? 0 : check) === digits.charCodeAt(9) - 48;
}

/** US ITIN: 9XX-GG-SSSS with the IRS's group ranges 50–65, 70–88, 90–92, 94–99. */
export function itinValid(digits: string): boolean {
  if (digits.length !== 9 || digits[0] !== "9") return false;
  const g = Number(digits.slice(3, 5));
  return (g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) || g >= 94;
}

/** ICAO 9303 check digit: weights 7-3-1, letters A–Z = 10–35, filler `<` = 0. */
function mrzDigit(text: string): number {
  const w = [7, 3, 1];
  let sum = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v =
      c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 90 ? c - 55 : c >= 97 && c <= 122 ? c - 87 : 0;
    sum += v * w[i % 3]!;
  }
  return sum % 10;
}

/**
 * Second line of a passport's machine-readable zone (from the document number): the document
 * number and the birth date both carry their check digits.
 */
export function mrzValid(line: string): boolean {
  if (line.length < 20) return false;
  const digit = (i: number) => line.charCodeAt(i) - 48;
  return mrzDigit(line.slice(0, 9)) === digit(9) && mrzDigit(line.slice(13, 19)) === digit(19);
}

/** ABA routing number: 3-7-1 weighted sum mod 10 = 0, with a Federal Reserve prefix. */
export function abaValid(digits: string): boolean {
  if (digits.length !== 9 || allSame(digits)) return false;
  const prefix = Number(digits.slice(0, 2));
  if (
    !(
      prefix <= 12 ||
      (prefix >= 21 && prefix <= 32) ||
      (prefix >= 61 && prefix <= 72) ||
      prefix === 80
    )
  )
    return false;
  const d = (i: number) => digits.charCodeAt(i) - 48;
  const sum = 3 * (d(0) + d(3) + d(6)) + 7 * (d(1) + d(4) + d(7)) + (d(2) + d(5) + d(8));
  return sum % 10 === 0;
}

// ---------------------------------------------------------------------------------------------
// The scanner.

export type PiiType = (typeof PII_TYPES)[number];

/** One piece of personal data; `evidence` is already masked. */
export type PiiHit = Readonly<{
  type: PiiType;
  label: string;
  strength: Strength;
  evidence: string;
  /** The record's own value (digits, compact IBAN) to count distinct records; never shown. */
  ref?: string;
}>;

export type PiiScanner = Readonly<{
  /**
   * Personal data in one text (normalised view for patterns, as-sent view for names). `hint`,
   * from `candidates` on a text that holds this one, spares a second prefilter pass.
   */
  scan(norm: string, raw: string, hint?: readonly number[]): PiiHit[];
  /** The prefilter's matches on a normalised UTF-8 buffer, or null when it holds nothing to report. */
  candidates(buf: Buffer): readonly number[] | null;
  /** Cheap test on a normalised UTF-8 buffer: could this text hold anything the scanner reports? */
  mayContain(buf: Buffer): boolean;
}>;

type BrandRange = { low: string; high: string };
type Brand = { brand: string; ranges: BrandRange[]; lengths: ReadonlySet<number> };

const STRENGTH_RANK: Readonly<Record<Strength, number>> = { strong: 3, medium: 2, weak: 1 };
/** Texts up to this size have all their card candidates found in one RE2 call. */
const ONE_CALL_BYTES = 4096;

function maskDigits(text: string, keep = 4): string {
  const d = digitsOf(text);
  return `…${d.slice(-keep)} (${d.length} digits)`;
}

/** Builds the personal-data scanner from data/pii.json (validated). */
export function createPiiScanner(data: PiiData): PiiScanner {
  const g = "gu";
  const card = new RE2(data.cards.pattern, g);
  const cardContext = new RE2(data.cards.contextPattern, "u");
  const brands: Brand[] = data.cards.brands.map((b) => ({
    brand: b.brand,
    ranges: b.ranges.map(([low, high]) => ({ low, high })),
    lengths: new Set(b.lengths),
  }));
  const testCards = new Set(data.cards.testNumbers);
  const iban = new RE2(data.iban.pattern, g);
  const invoiceContext = new RE2(data.iban.invoiceContextPattern, "u");
  const ibanLengths = data.iban.lengths;
  const ids = data.nationalIds.map((spec) => ({
    spec,
    re: new RE2(spec.pattern, g),
    keywords: spec.keywords === "" ? null : new RE2(spec.keywords, "u"),
  }));
  const fakeSsns = new Set(data.knownFakeSsns.map(digitsOf));
  const ninoBad = new Set(data.ninoInvalidPrefixes);
  const ninoExamples = new Set(data.ninoExamplePrefixes);
  const dob = new RE2(data.dob.pattern, g);
  const personNoun = new RE2(data.personNounPattern, "u");
  const address = new RE2(data.addressPattern, "u");
  // Non-global twins for yes/no questions (a global RE2's test() would start at lastIndex).
  const anyEmail = new RE2(data.contacts.emailPattern, "u");
  const anyPhone = new RE2(data.contacts.phonePattern, "u");
  const personName = new RE2(data.personNamePattern, "u");
  const specials = data.specialCategories.map((s) => ({ ...s, re: new RE2(s.pattern, g) }));
  const exclusions = data.specialExclusions;
  const c = data.contacts;
  const email = new RE2(c.emailPattern, g);
  const phone = new RE2(c.phonePattern, g);
  const roles = new Set(c.roleLocalParts);
  const header = new RE2(c.headerPattern, "u");
  const moreRows = new RE2(c.moreRowsPattern, "u");

  // One pass answers "is there anything at all"; e-mail alone is not enough (it is everywhere).
  const prefilter = new RE2.Set(
    [
      data.cards.pattern,
      data.iban.pattern,
      ...data.nationalIds.map((i) => i.pattern),
      data.dob.pattern,
      ...data.specialCategories.map((s) => s.pattern),
      c.phonePattern,
      c.headerPattern,
      c.moreRowsPattern,
      // Last, so that the indexes above stay where the scan expects them.
      ...(data.columns === undefined ? [] : [data.columns.headerPattern]),
    ],
    "u",
  );
  const columnSpecs = data.columns?.specs ?? [];
  const columnCells =
    columnSpecs.length === 0
      ? null
      : new RE2.Set(
          columnSpecs.map((s) => s.cell),
          "u",
        );

  const brandOf = (digits: string): string | null => {
    for (const b of brands) {
      if (!b.lengths.has(digits.length)) continue;
      for (const r of b.ranges) {
        const p = digits.slice(0, r.low.length);
        if (p >= r.low && p <= r.high) return b.brand;
      }
    }
    return null;
  };

  /** Separators must be uniform and split the number the way cards are printed. */
  const grouping = (text: string): "none" | "card" | "odd" => {
    let sep = "";
    const groups: number[] = [];
    let run = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (ch === " " || ch === "-" || ch === ".") {
        if (sep !== "" && sep !== ch) return "odd";
        sep = ch;
        groups.push(run);
        run = 0;
      } else run++;
    }
    groups.push(run);
    if (groups.length === 1) return "none";
    const shape = groups.join("-");
    if (shape === "4-6-5" || shape === "4-6-4") return "card";
    for (let i = 0; i < groups.length - 1; i++) if (groups[i] !== 4) return "odd";
    // Cards end on a group of two to four digits; a lone digit is some other number's tail.
    const last = groups[groups.length - 1]!;
    return last >= 2 && last <= 4 ? "card" : "odd";
  };

  // Everything below works on UTF-8 buffers: RE2 reads them without re-encoding, so the cost
  // of a scan stays linear in the text however many matches it has. Offsets are bytes.
  const windowOf = (buf: Buffer, start: number, end: number, size: number): Buffer =>
    buf.subarray(Math.max(0, start - size), Math.min(buf.length, end + size));
  const text = (b: Buffer | string | undefined): string =>
    b === undefined ? "" : typeof b === "string" ? b : b.toString("utf8");
  // The re2 typings only declare group 0 for Buffer matches; numbered groups are there too.
  const group = (m: NonNullable<ReturnType<RE2["exec"]>>, i: number): string =>
    text((m as unknown as readonly (Buffer | undefined)[])[i]);

  /**
   * Card-number candidates as [start, end) byte offsets of the digits. A short text has all of
   * them found in one RE2 call (each call costs more than the search); a long one is read match
   * by match, bounded: thousands of digit runs cost a few dozen matches, not thousands.
   */
  const cardCandidates = (buf: Buffer, spans: number[]): void => {
    if (buf.length <= ONE_CALL_BYTES) {
      const all = card.match(buf) as unknown as readonly Buffer[] | null;
      if (all === null) return;
      let cursor = 0;
      for (let n = 0; n < all.length && n < 16; n++) {
        const whole = all[n]!;
        const at = buf.indexOf(whole, cursor);
        if (at < 0) break;
        cursor = at + whole.length;
        // The match may hold the character on either side of the number: trim to its digits.
        let s = 0;
        let e = whole.length;
        while (s < e && (whole[s]! < 48 || whole[s]! > 57)) s++;
        while (e > s && (whole[e - 1]! < 48 || whole[e - 1]! > 57)) e--;
        spans.push(at + s, at + e);
      }
      return;
    }
    card.lastIndex = 0;
    for (let n = 0; n < 16; n++) {
      const m = card.exec(buf);
      if (m === null) break;
      const value = group(m, 1);
      // The number's own offset (the match may start on the character before it).
      const at = buf.indexOf(value, m.index);
      const from = at >= 0 ? at : m.index;
      spans.push(from, from + Buffer.byteLength(value));
    }
  };

  /** A short digit run at `at` followed by `/` or `.`: a date or an expiry, not more digits. */
  const dateAfter = (buf: Buffer, at: number): boolean => {
    let i = at;
    while (i < buf.length && i - at < 3 && buf[i]! >= 48 && buf[i]! <= 57) i++;
    return i - at <= 2 && (buf[i] === 47 || buf[i] === 46);
  };
  /** A short digit run ending at `at` preceded by `/` or `.`: the end of a date (`04/28`). */
  const dateBefore = (buf: Buffer, at: number): boolean => {
    let i = at;
    while (i >= 0 && at - i < 5 && buf[i]! >= 48 && buf[i]! <= 57) i--;
    return at - i <= 4 && i >= 0 && (buf[i] === 47 || buf[i] === 46);
  };

  const scanCards = (buf: Buffer, out: PiiHit[]): void => {
    const spans: number[] = [];
    cardCandidates(buf, spans);
    for (let k = 0; k < spans.length; k += 2) {
      const from = spans[k]!;
      let end = spans[k + 1]!;
      // Part of a longer number ("1234 5678 9012 3456 7890"): not a card. A date or an expiry
      // right after or before it (`… 11/26`, `exp 04/28 …`) is not part of the number.
      const next = buf[end];
      const after = buf[end + 1] ?? 0;
      if (
        (next === 32 || next === 45 || next === 46) &&
        after >= 48 &&
        after <= 57 &&
        !dateAfter(buf, end + 1)
      )
        continue;
      // The tail of a longer grouped number (the digits of an IBAN after `DE44 `): not a card.
      const prev = from > 0 ? buf[from - 1]! : 0;
      const before = from > 1 ? buf[from - 2]! : 0;
      if (
        (prev === 32 || prev === 45 || prev === 46) &&
        before >= 48 &&
        before <= 57 &&
        !dateBefore(buf, from - 2)
      )
        continue;
      let value = buf.toString("latin1", from, end);
      let digits = digitsOf(value);
      let shape = grouping(value);
      let trimmed = false;
      if (shape === "odd" || !luhnValid(digits) || brandOf(digits) === null) {
        // The number may have swallowed what follows it (`4929… 11/26`, `… 118` for the CVV):
        // without its last short group it may be the card, told so by the words around it.
        const cut = Math.max(
          value.lastIndexOf(" "),
          value.lastIndexOf("-"),
          value.lastIndexOf("."),
        );
        if (cut > 0 && value.length - cut - 1 <= 4) {
          const lead = value.slice(0, cut);
          const leadDigits = digitsOf(lead);
          if (grouping(lead) !== "odd" && luhnValid(leadDigits) && brandOf(leadDigits) !== null) {
            value = lead;
            digits = leadDigits;
            shape = grouping(lead);
            end = from + cut;
            trimmed = true;
          }
        }
      }
      if (digits.length < 12 || digits.length > 19 || allSame(digits)) continue;
      if (shape === "odd" || !luhnValid(digits) || testCards.has(digits)) continue;
      const brand = brandOf(digits);
      if (brand === null) continue;
      const context = cardContext.test(windowOf(buf, from, end, data.cards.contextWindow));
      if (trimmed && !context) continue;
      const strength: Strength = context ? "strong" : shape === "card" ? "medium" : "weak";
      out.push({
        type: "card",
        label: `${brand} card number`,
        strength,
        evidence: `${brand} ${maskDigits(digits)}`,
        ref: digits,
      });
    }
  };

  const scanIbans = (buf: Buffer, out: PiiHit[]): void => {
    iban.lastIndex = 0;
    let invoice: boolean | null = null;
    const from = out.length;
    const valid: string[] = [];
    for (let n = 0; n < 16; n++) {
      const m = iban.exec(buf);
      if (m === null) break;
      let compact = "";
      for (const ch of group(m, 1)) if (ch !== " " && ch !== "-") compact += ch;
      compact = compact.toUpperCase();
      const length = ibanLengths[compact.slice(0, 2)];
      if (length === undefined || compact.length < length) continue;
      const candidate = compact.slice(0, length);
      if (!ibanValid(candidate)) continue;
      invoice ??= invoiceContext.test(buf);
      valid.push(candidate);
      out.push({
        type: "iban",
        label: "IBAN",
        strength: "strong",
        evidence: `IBAN ${candidate.slice(0, 2)}…${candidate.slice(-2)} (${candidate.length} chars)`,
        ref: candidate,
      });
    }
    // A supplier's own account on an invoice is how invoices work, not a leak; but an invoice
    // names one or two accounts of its issuer, while a list of accounts (payroll, refunds) is
    // other people's data whatever the text calls itself.
    if (invoice === true && new Set(valid).size <= data.iban.invoiceMaxAccounts) out.length = from;
  };

  const idVerdict = (check: IdCheck, value: string): "valid" | "unallocated" | "invalid" => {
    const digits = digitsOf(value);
    switch (check) {
      case "us_ssn":
        return ssnValid(digits) && !fakeSsns.has(digits) ? "valid" : "invalid";
      case "uk_nino": {
        const v = value.replaceAll(" ", "").toUpperCase();
        const prefix = v.slice(0, 2);
        if (ninoExamples.has(prefix)) return "invalid";
        if (NINO_FIRST_BAD.has(v[0]!) || NINO_SECOND_BAD.has(v[1]!) || ninoBad.has(prefix))
          return "unallocated";
        return "valid";
      }
      case "fr_insee":
        return inseeValid(value.replaceAll(" ", "").toUpperCase()) ? "valid" : "invalid";
      case "de_tax_id":
        return deTaxIdValid(digits) ? "valid" : "invalid";
      case "es_dni":
        return dniValid(digits, value.slice(-1).toUpperCase()) ? "valid" : "invalid";
      case "es_nie": {
        const v = value.replaceAll(" ", "").replaceAll("-", "").toUpperCase();
        const lead = "XYZ".indexOf(v[0]!);
        return lead >= 0 && dniValid(`${lead}${v.slice(1, 8)}`, v.slice(-1)) ? "valid" : "invalid";
      }
      case "it_cf":
        return codiceFiscaleValid(value.toUpperCase()) ? "valid" : "invalid";
      case "nl_bsn":
        return bsnValid(digits) ? "valid" : "invalid";
      case "in_aadhaar":
        return digits.length === 12 && verhoeffValid(digits) ? "valid" : "invalid";
      case "ca_sin":
        return digits.length === 9 && digits[0] !== "0" && digits[0] !== "8" && luhnValid(digits)
          ? "valid"
          : "invalid";
      case "br_cpf":
        return cpfValid(digits) ? "valid" : "invalid";
      case "pl_pesel":
        return peselValid(digits) ? "valid" : "invalid";
      case "cn_rid":
        return chineseIdValid(value.toUpperCase()) ? "valid" : "invalid";
      case "se_pnr":
        return luhnTen(digits) ? "valid" : "invalid";
      case "ch_ahv":
        return ahvValid(digits) ? "valid" : "invalid";
      case "sg_nric":
        return nricValid(value) ? "valid" : "invalid";
      case "au_tfn":
        return tfnValid(digits) ? "valid" : "invalid";
      case "be_nrn":
        return belgianNrnValid(digits) ? "valid" : "invalid";
      case "kr_rrn":
        return koreanRrnValid(digits) ? "valid" : "unallocated";
      case "mx_curp":
        return curpValid(value) ? "valid" : "invalid";
      case "uk_nhs":
        return nhsValid(digits) ? "valid" : "invalid";
      case "us_itin":
        return itinValid(digits) ? "valid" : "invalid";
      case "us_aba":
        return abaValid(digits) ? "valid" : "invalid";
      case "mrz":
        return mrzValid(value) ? "valid" : "invalid";
      case "has_digits":
        return digits.length >= 2 && !allSame(value) ? "valid" : "invalid";
    }
  };

  const scanIds = (buf: Buffer, id: (typeof ids)[number], out: PiiHit[]): void => {
    const { spec, re, keywords } = id;
    re.lastIndex = 0;
    for (let n = 0; n < 8; n++) {
      const m = re.exec(buf);
      if (m === null) break;
      const value = group(m, 1);
      const verdict = idVerdict(spec.check, value);
      if (verdict === "invalid") continue;
      // A company's own bank details on an invoice are how invoices work, not a leak.
      if (spec.type === "bank_account" && invoiceContext.test(buf)) break;
      const at = buf.indexOf(value, m.index);
      const start = at >= 0 ? at : m.index;
      const keyword =
        keywords === null ||
        keywords.test(windowOf(buf, start, start + Buffer.byteLength(value), data.keywordWindow));
      let strength: Strength | null = keyword ? spec.withKeyword : spec.withoutKeyword;
      // A number in an unallocated range is only what it claims when the text says so.
      if (verdict === "unallocated") strength = keyword ? "medium" : null;
      if (strength === null) continue;
      out.push({
        type: spec.type ?? "national_id",
        label: spec.label,
        strength,
        evidence: `${spec.label} ${evidenceOf(value, true)}`,
        ref: `${spec.check}:${digitsOf(value) || value}`,
      });
    }
  };

  type Doc = { buf: Buffer; raw: string; rawBuf: Buffer | null };

  /** A person nearby: a person word or pronoun around the match, or a capitalised full name. */
  const anchored = (doc: Doc, start: number, end: number): boolean => {
    const w = data.anchorWindow;
    if (personNoun.test(windowOf(doc.buf, start, end, w))) return true;
    doc.rawBuf ??= Buffer.from(doc.raw, "utf8");
    // Same byte length: the texts line up and the window can be used on the raw one too.
    const view =
      doc.rawBuf.length === doc.buf.length ? windowOf(doc.rawBuf, start, end, w) : doc.rawBuf;
    return personName.test(view);
  };

  const scanSpecial = (doc: Doc, matched: ReadonlySet<number>, out: PiiHit[]): void => {
    for (let i = 0; i < specials.length; i++) {
      if (!matched.has(specialBase + i)) continue;
      const s = specials[i]!;
      s.re.lastIndex = 0;
      for (let n = 0; n < 8; n++) {
        const m = s.re.exec(doc.buf);
        if (m === null) break;
        const phrase = text(m[0]);
        if (exclusions.some((e) => phrase.includes(e))) continue;
        if (!anchored(doc, m.index, m.index + m[0].length)) continue;
        out.push({
          type: "special",
          label: s.label,
          strength: "medium",
          evidence: `${s.category}: ${evidenceOf(phrase)}`,
        });
        break;
      }
    }
  };

  const scanDob = (doc: Doc, out: PiiHit[]): void => {
    dob.lastIndex = 0;
    const m = dob.exec(doc.buf);
    if (m === null) return;
    if (!anchored(doc, m.index, m.index + m[0].length)) return;
    // With a home address or a personal contact next to it, it is an identity kit.
    const kit = address.test(doc.buf) || anyEmail.test(doc.buf) || anyPhone.test(doc.buf);
    out.push({
      type: "dob",
      label: kit ? "date of birth with address or contact details" : "date of birth",
      strength: kit ? "medium" : "weak",
      evidence: kit ? "date of birth, name and address or contact" : "date of birth next to a name",
    });
  };

  /** Lines that look like rows of a contact table: several personal addresses or numbers. */
  const scanContacts = (buf: Buffer, out: PiiHit[]): void => {
    const lines = new Set<number>();
    const distinct = new Set<string>();
    let line = 0;
    let cursor = 0;
    const lineOf = (index: number): number => {
      for (let i = buf.indexOf(10, cursor); i >= 0 && i < index; i = buf.indexOf(10, i + 1)) {
        line++;
        cursor = i + 1;
      }
      return line;
    };
    // Whether a line is a row (has a delimiter) is computed once per line: linear on long lines.
    const rows = new Map<number, boolean>();
    const rowLike = (index: number, l: number): boolean => {
      const known = rows.get(l);
      if (known !== undefined) return known;
      const s = buf.lastIndexOf(10, index) + 1;
      let e = buf.indexOf(10, index);
      if (e < 0) e = buf.length;
      let found = false;
      for (let i = s; i < e && !found; i++) {
        const ch = buf[i];
        if (ch === 44 || ch === 59 || ch === 9 || ch === 124) found = true;
      }
      rows.set(l, found);
      return found;
    };
    // Lines carrying a role address (sales@, support@) list a business, not a person.
    const roleLines = new Set<number>();
    const enoughRows = Math.max(c.minRecords, c.minRecordsWithHeader);
    const collect = (re: RE2, isEmail: boolean) => {
      re.lastIndex = 0;
      line = 0;
      cursor = 0;
      for (let n = 0; n < c.maxMatches; n++) {
        // Enough rows and addresses to decide the strongest verdict: stop reading.
        if (lines.size >= enoughRows && distinct.size >= c.minDistinct) break;
        const m = re.exec(buf);
        if (m === null) break;
        const value = text(m[0]);
        const l = lineOf(m.index);
        if (isEmail && roles.has(value.slice(0, value.indexOf("@")))) {
          roleLines.add(l);
          continue;
        }
        if (!isEmail && roleLines.has(l)) continue;
        distinct.add(value);
        if (rowLike(m.index, l)) lines.add(l);
      }
    };
    collect(email, true);
    collect(phone, false);
    const records = lines.size;
    if (records < c.minRecordsWeak && distinct.size < c.minDistinct) return;
    const table = header.test(buf) || moreRows.test(buf);
    let strength: Strength | null = null;
    if (records >= c.minRecordsWithHeader && table) strength = "strong";
    else if (records >= c.minRecords || distinct.size >= c.minDistinct) strength = "medium";
    else if (records >= c.minRecordsWeak) strength = "weak";
    if (strength === null) return;
    out.push({
      type: "contacts",
      label: "contact list",
      strength,
      evidence: `${records} rows of personal contact details${table ? " (table export)" : ""}`,
    });
  };

  const idBase = 2;
  const dobIndex = idBase + ids.length;
  const specialBase = dobIndex + 1;
  const contactBase = specialBase + specials.length;
  const columnIndex = contactBase + 3;

  /** Splits a table line into trimmed cells on its delimiter (quotes dropped). */
  const cellsOf = (line: string, delimiter: string): string[] => {
    const cells = line.split(delimiter, 64);
    for (let i = 0; i < cells.length; i++) {
      let cell = cells[i]!.trim();
      if (cell.startsWith('"') && cell.endsWith('"') && cell.length >= 2) cell = cell.slice(1, -1);
      cells[i] = cell.trim();
    }
    return cells;
  };
  const DELIMITERS = [",", ";", "\t", "|"];
  /** A cell without its spaces, dots and dashes, upper case; null unless letters and digits. */
  const compactCell = (cell: string): string | null => {
    let out = "";
    for (let i = 0; i < cell.length && i < 40; i++) {
      const ch = cell.charCodeAt(i);
      if (ch === 32 || ch === 46 || ch === 45) continue;
      if ((ch >= 48 && ch <= 57) || (ch >= 65 && ch <= 90)) out += cell[i];
      else if (ch >= 97 && ch <= 122) out += String.fromCharCode(ch - 32);
      else return null;
    }
    return out;
  };

  /** Identifier columns of delimited tables: each row's cell validated by that column's check. */
  const scanColumns = (norm: string, out: PiiHit[]): void => {
    if (columnCells === null) return;
    const lines = norm.split("\n", 400);
    for (let h = 0; h < lines.length; h++) {
      let line = lines[h]!;
      // A param's value comes as `key: value`: the table starts after the key.
      const colon = line.indexOf(": ");
      if (colon > 0 && colon <= 40 && !line.slice(0, colon).includes(","))
        line = line.slice(colon + 2);
      let delimiter = "";
      for (const d of DELIMITERS) if (delimiter === "" && line.includes(d)) delimiter = d;
      if (delimiter === "" || line.length > 512) continue;
      const header = cellsOf(line, delimiter);
      const columns: { at: number; spec: (typeof columnSpecs)[number] }[] = [];
      for (let i = 0; i < header.length; i++) {
        const cell = header[i]!;
        if (cell === "" || cell.length > 40 || !columnCells.test(cell)) continue;
        const which = columnCells.match(cell)[0];
        if (which !== undefined) columns.push({ at: i, spec: columnSpecs[which]! });
      }
      if (columns.length === 0) continue;
      const last = Math.min(lines.length, h + 1 + data.columns!.maxRows);
      for (let r = h + 1; r < last; r++) {
        const row = lines[r]!;
        if (!row.includes(delimiter)) break;
        const cells = cellsOf(row, delimiter);
        for (const { at, spec } of columns) {
          const value = compactCell(cells[at] ?? "");
          if (value === null || value.length < 6 || value.length > 24) continue;
          if (idVerdict(spec.check, value) !== "valid") continue;
          out.push({
            type: spec.type,
            label: spec.label,
            strength: "strong",
            evidence: `${spec.label} ${evidenceOf(value, true)} (table column)`,
            ref: `${spec.check}:${value}`,
          });
        }
      }
      return;
    }
  };

  /** Occurrences of one byte, counting stops at `limit`. */
  const countByte = (buf: Buffer, byte: number, limit: number): number => {
    let n = 0;
    for (let i = buf.indexOf(byte); i >= 0 && n < limit; i = buf.indexOf(byte, i + 1)) n++;
    return n;
  };
  const countAt = (buf: Buffer): number => countByte(buf, 64, c.minRecordsWeak);

  return {
    mayContain(buf) {
      if (buf.length < 8) return false;
      // Three or more addresses could be a contact list.
      return prefilter.test(buf) || countAt(buf) >= c.minRecordsWeak;
    },
    candidates(buf) {
      if (buf.length < 8) return null;
      const matched = prefilter.match(buf);
      return matched.length > 0 || countAt(buf) >= c.minRecordsWeak ? matched : null;
    },
    scan(norm, raw, hint) {
      const out: PiiHit[] = [];
      if (norm.length < 8) return out;
      const doc: Doc = { buf: Buffer.from(norm, "utf8"), raw, rawBuf: null };
      const buf = doc.buf;
      // Every sub-scan runs its own pattern on this text: the prefilter only says which to run.
      const matched = new Set(hint ?? prefilter.match(buf));
      if (matched.has(0)) scanCards(buf, out);
      if (matched.has(1)) scanIbans(buf, out);
      for (let i = 0; i < ids.length; i++) if (matched.has(idBase + i)) scanIds(buf, ids[i]!, out);
      if (matched.size > 0) scanSpecial(doc, matched, out);
      if (matched.has(dobIndex)) scanDob(doc, out);
      // A table needs rows: a header, a "… more rows" line, several addresses, or a phone
      // number on a multi-line text. A lone address or number in a letter costs nothing.
      const table = matched.has(contactBase + 1) || matched.has(contactBase + 2);
      const phones =
        matched.has(contactBase) && countByte(buf, 10, c.minRecordsWeak) >= c.minRecordsWeak - 1;
      if (table || phones || countAt(buf) >= c.minRecordsWeak) scanContacts(buf, out);
      if (matched.has(columnIndex)) scanColumns(norm, out);
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The layer.

const CODES: Readonly<Record<PiiType, string>> = {
  card: "PII_PAYMENT_CARD",
  iban: "PII_IBAN",
  bank_account: "PII_BANK_ACCOUNT",
  national_id: "PII_NATIONAL_ID",
  contacts: "PII_CONTACT_EXPORT",
  special: "PII_SPECIAL_CATEGORY",
  dob: "PII_DATE_OF_BIRTH",
};

const VERBS: Readonly<Record<Sink, string>> = {
  public: "published where anyone can read it",
  external: "sent outside the organisation",
  model: "pasted into a prompt for a model provider",
  note: "written into a note or local file",
  local: "written into a note or local file",
  store: "stored",
  incoming: "received",
};

/** Which texts of the request carry payload to the sink (recipients and responses do not). */
function payloadOf(
  facts: Facts,
  info: SinkInfo,
  recipients: ReadonlySet<string>,
): { norm: string; raw: string } {
  const norm: string[] = [];
  const raw: string[] = [];
  if (!info.skipTarget && facts.target.norm !== "") {
    norm.push(facts.target.norm);
    raw.push(facts.target.raw);
  }
  if (!info.contentIncoming && facts.content.norm !== "") {
    norm.push(facts.content.norm);
    raw.push(facts.content.raw);
  }
  // Params as `key: value` (a key such as `card` or `ssn` is the context a number needs), and
  // the fields of one array element on one line, so a JSON list of people reads as table rows.
  let line = "";
  let lineRaw = "";
  let record = "";
  for (const p of facts.paramStrings) {
    const key = p.key;
    // Only a top-level `to`/`email` names the recipient; inside records it is the data itself.
    const topLevel =
      p.path === key || (p.path.startsWith(key) && p.path.charCodeAt(key.length) === 91);
    if (topLevel && recipients.has(key.toLowerCase())) continue;
    const close = p.path.lastIndexOf("]");
    const rec = close > 0 ? p.path.slice(0, close + 1) : "";
    const prefix = key === "" ? "" : `${key}: `;
    if (rec !== "" && rec === record && line !== "") {
      line += `; ${prefix.toLowerCase()}${p.value.norm}`;
      lineRaw += `; ${prefix}${p.value.raw}`;
      continue;
    }
    if (line !== "") {
      norm.push(line);
      raw.push(lineRaw);
    }
    record = rec;
    line = prefix.toLowerCase() + p.value.norm;
    lineRaw = prefix + p.value.raw;
  }
  if (line !== "") {
    norm.push(line);
    raw.push(lineRaw);
  }
  if (!info.contentIncoming) {
    for (const d of facts.decoded) {
      norm.push(d.norm);
      raw.push(d.raw);
    }
  }
  return { norm: norm.join("\n"), raw: raw.join("\n") };
}

/**
 * Layer 10: personal data leaving. Payment cards (Luhn, issuer ranges, published test numbers
 * excluded), IBANs (mod 97, country lengths), national identifiers with their checksums or
 * allocation rules, contact tables, dates of birth next to a person and GDPR special categories
 * attached to a person. Sent outside or published → BLOCK (WARN for weak signals); pasted into a
 * prompt → WARN; kept inside → nothing, except a card number in a note (PCI DSS). A lone e-mail
 * address or phone number is ordinary business and never a finding.
 */
/** The pii layer; `secretsInput` (data/secrets.json) supplies the shared destination rules. */
export function createPiiLayer(input: unknown, secretsInput: unknown): Layer {
  const data = PiiDataSchema.parse(input);
  const scanner = createPiiScanner(data);
  const sinkOf = sharedSinkClassifier(secretsInput, SecretsDataSchema.parse(secretsInput).sinks);
  const rules = compileRules("pii", data.rules);
  const recipients = new Set(data.recipientParamKeys);
  const modelTypes = new Set<PiiType>(data.modelTypes);
  const kitTypes = new Set<PiiType>(data.identityKit.types);
  const modelKit = data.modelKit;
  const modelKitTypes = new Set<PiiType>(modelKit?.types ?? []);
  const purposeTokens = new Set(data.purposeActionTokens);
  /** True when one `_`-separated token of the action name names such a purpose. */
  const forPurpose = (name: string): boolean => {
    let start = 0;
    for (let i = 0; i <= name.length; i++) {
      if (i === name.length || name.charCodeAt(i) === 95 /* _ */) {
        if (i > start && purposeTokens.has(name.slice(start, i))) return true;
        start = i + 1;
      }
    }
    return false;
  };

  return {
    name: "pii",
    maxInputChars: data.maxInputChars,
    check(facts: Facts): readonly Finding[] {
      const found: Finding[] = data.rules.length > 0 ? rules(facts) : [];
      // Where the text goes first: text coming in is never scanned (the cheap exit for tool output).
      const info = sinkOf(facts);
      // Nothing is reported for text that comes in, is stored by design or stays local.
      if (info.sink === "incoming" || info.sink === "store" || info.sink === "local")
        return done(found);
      if (facts.kind === "other" && forPurpose(facts.actionName)) return done(found);
      // The prefilter runs once, on the whole request: the payload is a part of it.
      const hint = scanner.candidates(facts.all.buf);
      if (hint === null) return done(found);
      const payload = payloadOf(facts, info, recipients);
      const hits = scanner.scan(payload.norm, payload.raw, hint);
      if (hits.length === 0) return done(found);
      const best = new Map<PiiType, PiiHit>();
      const records = new Map<PiiType, Set<string>>();
      for (const h of hits) {
        const prev = best.get(h.type);
        if (prev === undefined || STRENGTH_RANK[h.strength] > STRENGTH_RANK[prev.strength])
          best.set(h.type, h);
        if (h.ref === undefined) continue;
        const seen = records.get(h.type) ?? new Set<string>();
        seen.add(h.ref);
        records.set(h.type, seen);
      }
      // A list of card numbers or identifiers is a dump, not a slip: more records, more certainty.
      for (const [type, seen] of records) {
        const hit = best.get(type)!;
        const n = seen.size;
        if (n < data.bulk.raiseRecords || hit.strength === "strong") continue;
        const strength: Strength =
          n >= data.bulk.strongRecords || hit.strength === "medium" ? "strong" : "medium";
        best.set(type, {
          ...hit,
          strength,
          label: `list of ${n} ${type === "card" ? "payment card number" : hit.label}s`,
        });
      }
      // Several kinds together (a name, a birth date and an ID) are an identity kit: what fraud
      // and account takeover need. A weak part of a kit (a passport number, a birth date) counts.
      let kitParts = 0;
      for (const type of best.keys()) if (kitTypes.has(type)) kitParts++;
      if (kitParts >= data.identityKit.minTypes) {
        for (const [type, hit] of best)
          if (kitTypes.has(type) && hit.strength === "weak")
            best.set(type, { ...hit, strength: "medium" });
      }
      const kit = best.size >= 2 ? 0.04 : 0;
      // Personal data posted to an internal service (`*.internal`, a private address) stays inside.
      const sink: Sink = info.insideOnly && info.sink === "external" ? "note" : info.sink;
      const row = data.severities[sink];
      // Clear identifiers of several kinds, or a list of them, pasted into a prompt.
      let modelLeak = false;
      if (sink === "model" && modelKit !== undefined) {
        let kinds = 0;
        for (const [type, hit] of best) {
          if (!modelKitTypes.has(type) || hit.strength !== "strong") continue;
          kinds++;
          if ((records.get(type)?.size ?? 0) >= modelKit.minRecords) modelLeak = true;
        }
        if (kinds >= modelKit.minTypes) modelLeak = true;
      }
      for (const [type, hit] of best) {
        // People ask models about their own health or birthday; identifiers are another matter.
        if (sink === "model" && !modelTypes.has(type)) continue;
        // An unknown tool pointed at an outside URL may well be the organisation's own service:
        // only clear personal data counts there.
        if (info.inferred === true && hit.strength === "weak") continue;
        let action = row[hit.strength];
        // PCI DSS: a full card number must not be kept in clear in notes and documents.
        if (action === null && type === "card" && hit.strength !== "weak" && sink === "note")
          action = data.cardInNote;
        if (modelLeak && modelKitTypes.has(type) && hit.strength === "strong")
          action = modelKit!.action;
        if (action === null) continue;
        const severity: Severity = action[0];
        found.push({
          layer: "pii",
          code: CODES[type],
          severity,
          confidence: Math.min(0.99, action[1] + kit),
          message: `A ${hit.label} is ${VERBS[sink]}`,
          evidence: evidenceOf(hit.evidence),
        });
      }
      return done(found);
    },
  };
}
