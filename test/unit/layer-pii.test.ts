import assert from "node:assert/strict";
import { describe, test } from "node:test";
import piiData from "../../data/pii.json" with { type: "json" };
import secretsData from "../../data/secrets.json" with { type: "json" };
import {
  abaValid,
  ahvValid,
  belgianNrnValid,
  bsnValid,
  chineseIdValid,
  codiceFiscaleValid,
  cpfValid,
  createPiiLayer,
  curpValid,
  deTaxIdValid,
  dniValid,
  ibanValid,
  inseeValid,
  itinValid,
  koreanRrnValid,
  luhnValid,
  mrzValid,
  nhsValid,
  nricValid,
  peselValid,
  ssnValid,
  tfnValid,
  verhoeffValid,
} from "../../layers/pii.js";
import type { ProtectRequest } from "../../src/pipeline/facts.js";
import { checkLayer, codesOf, expectLayerVerdict, layerNamed } from "../helpers/layer-harness.js";

const layer = layerNamed("pii");

function email(content: string): ProtectRequest {
  return { action: "send_email", target: "someone@partner.example", content };
}

/** Completes a Luhn-valid number from a prefix (deterministic). */
function luhnNumber(prefix: string, length: number): string {
  let body = prefix;
  for (let i = 0; body.length < length - 1; i++) body += String((i * 7 + 3) % 10);
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return body + d;
  throw new Error("unreachable");
}

function groups(text: string, sizes: readonly number[], sep = " "): string {
  const out: string[] = [];
  let i = 0;
  for (const n of sizes) {
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out.join(sep);
}

const VISA = luhnNumber("4539", 16);
const MASTERCARD = luhnNumber("5412", 16);
const AMEX = luhnNumber("3714", 15);

describe("layer > pii", () => {
  test("is built from its data file and refuses a bad pattern at start-up", () => {
    assert.equal(createPiiLayer(piiData, secretsData).name, "pii");
    const broken = structuredClone(piiData) as { cards: { pattern: string } };
    broken.cards.pattern = "(unclosed";
    assert.throws(() => createPiiLayer(broken, secretsData));
  });

  describe("checksums on published examples", () => {
    test("Luhn, IBAN mod 97 and US SSN allocation rules", () => {
      assert.ok(luhnValid("4111111111111111"));
      assert.equal(luhnValid("4111111111111112"), false);
      assert.ok(ibanValid("GB82WEST12345698765432"));
      assert.equal(ibanValid("GB82WEST12345698765433"), false);
      assert.ok(ssnValid("078051120"));
      assert.equal(ssnValid("666121234"), false);
      assert.equal(ssnValid("900121234"), false);
      assert.equal(ssnValid("123001234"), false);
    });

    test("national identifiers with check digits", () => {
      assert.ok(inseeValid("255081416802538"));
      assert.equal(inseeValid("255081416802539"), false);
      assert.ok(deTaxIdValid("86095742719"));
      assert.equal(deTaxIdValid("86095742718"), false);
      assert.ok(dniValid("12345678", "Z"));
      assert.equal(dniValid("12345678", "A"), false);
      assert.ok(codiceFiscaleValid("RSSMRA85T10A562S"));
      assert.equal(codiceFiscaleValid("RSSMRA85T10A562T"), false);
      assert.ok(bsnValid("111222333"));
      assert.equal(bsnValid("111222334"), false);
      assert.ok(verhoeffValid("2363"));
      assert.equal(verhoeffValid("2364"), false);
      assert.ok(cpfValid("11144477735"));
      assert.equal(cpfValid("11111111111"), false);
      assert.ok(peselValid("44051401359"));
      assert.ok(chineseIdValid("11010519491231002X"));
      assert.equal(chineseIdValid("110105194912310021"), false);
    });

    test("more national identifiers, bank routing numbers and passport MRZ check digits", () => {
      assert.ok(ahvValid("7569217076985"));
      assert.equal(ahvValid("7569217076986"), false);
      assert.ok(nricValid("S1234567D"));
      assert.equal(nricValid("S1234567A"), false);
      assert.ok(tfnValid("123456782"));
      assert.equal(tfnValid("123456781"), false);
      assert.ok(belgianNrnValid("85073003328"));
      assert.equal(belgianNrnValid("85073003329"), false);
      assert.ok(koreanRrnValid("8503151234566"));
      assert.ok(curpValid("HEGG560427MVZRRL04"));
      assert.equal(curpValid("HEGG560427MVZRRL05"), false);
      assert.ok(nhsValid("9434765919"));
      assert.equal(nhsValid("9434765918"), false);
      assert.ok(itinValid("912701234"));
      assert.equal(itinValid("912401234"), false);
      assert.ok(abaValid("021000021"));
      assert.equal(abaValid("021000022"), false);
      assert.ok(mrzValid("L898902C36UTO7408122F1204159ZE184226B<<<<<10"));
      assert.equal(mrzValid("L898902C37UTO7408122F1204159ZE184226B<<<<<10"), false);
    });
  });

  describe("payment cards", () => {
    test("BLOCKs a card number with its expiry and CVV e-mailed outside", () => {
      const request = email(
        `Customer Lea Fischer, card ${groups(VISA, [4, 4, 4, 4])}, exp 09/28, CVV 311`,
      );
      assert.deepEqual(codesOf(layer, request), ["PII_PAYMENT_CARD"]);
      expectLayerVerdict(layer, request, "BLOCK");
    });

    test("BLOCKs a card printed in card groups even without card words", () => {
      expectLayerVerdict(layer, email(`number: ${groups(MASTERCARD, [4, 4, 4, 4], "-")}`), "BLOCK");
      expectLayerVerdict(layer, email(`ref ${groups(AMEX, [4, 6, 5])}`), "BLOCK");
    });

    test("only WARNs on a bare Luhn-valid digit run with no card context", () => {
      expectLayerVerdict(layer, email(`id ${VISA}`), "WARN");
    });

    test("WARNs on a card pasted into a prompt and in an internal note (PCI DSS)", () => {
      expectLayerVerdict(
        layer,
        { action: "llm_prompt", content: `is ${groups(VISA, [4, 4, 4, 4])} exp 01/29 valid?` },
        "WARN",
      );
      expectLayerVerdict(
        layer,
        { action: "create_note", content: `card ${groups(VISA, [4, 4, 4, 4])} exp 01/29` },
        "WARN",
      );
    });

    test("says nothing when a payment action carries the card it pays with", () => {
      expectLayerVerdict(
        layer,
        { action: "payment", target: "Print shop", params: { card: VISA, amount: 40 } },
        "ALLOW",
      );
    });

    test("ALLOWs published test card numbers: Luhn-valid, but nobody's card", () => {
      expectLayerVerdict(
        layer,
        email("Sandbox: 4242 4242 4242 4242 exp 12/34 CVC 123, or 4111111111111111."),
        "ALLOW",
      );
    });

    test("ALLOWs numbers that fail Luhn, issuer ranges or card grouping", () => {
      expectLayerVerdict(
        layer,
        email(`card ${VISA.slice(0, 15)}${(Number(VISA[15]) + 1) % 10} exp 01/29`),
        "ALLOW",
      );
      expectLayerVerdict(layer, email("card 9999 1234 5678 9012 exp 01/29"), "ALLOW");
      expectLayerVerdict(layer, email("parts 4539 1488 0343 6467 7788 1234 shipped"), "ALLOW");
      expectLayerVerdict(layer, email("the card ending in 6467 expires next month"), "ALLOW");
    });

    test("BLOCKs a card written in full-width digits", () => {
      const wide = [...groups(VISA, [4, 4, 4, 4])]
        .map((c) => (c === " " ? c : String.fromCharCode(0xff10 + Number(c))))
        .join("");
      expectLayerVerdict(layer, email(`card ${wide} exp 02/29`), "BLOCK");
    });
  });

  describe("bank accounts", () => {
    test("BLOCKs a person's IBAN e-mailed outside", () => {
      const request = email(
        "Please send the refund to Felix Braun, IBAN GB82 WEST 1234 5698 7654 32.",
      );
      assert.deepEqual(codesOf(layer, request), ["PII_IBAN"]);
      expectLayerVerdict(layer, request, "BLOCK");
    });

    test("ALLOWs an IBAN with a wrong check, and a supplier's own IBAN on an invoice", () => {
      expectLayerVerdict(layer, email("IBAN GB82 WEST 1234 5698 7654 33"), "ALLOW");
      expectLayerVerdict(
        layer,
        email("Invoice 2291 attached; payment terms 30 days to IBAN GB82 WEST 1234 5698 7654 32."),
        "ALLOW",
      );
    });
  });

  describe("lists of accounts", () => {
    /** A valid IBAN for a country and BBAN: the check digits computed as ISO 13616 says. */
    function ibanFor(country: string, bban: string): string {
      const digits = `${bban}${country}00`.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
      let rem = 0;
      for (const d of digits) rem = (rem * 10 + Number(d)) % 97;
      const check = String(98 - rem).padStart(2, "0");
      return `${country}${check}${bban}`.replace(/(.{4})/g, "$1 ").trim();
    }
    const accounts = [
      ibanFor("DE", "370400440532013000"),
      ibanFor("DE", "500105175407324931"),
      ibanFor("DE", "100500000024290661"),
    ];

    test("BLOCKs staff bank details for payroll even when a word in the text contains 'rechnung'", () => {
      const body = `Bankverbindungen für die Lohnabrechnung:\nA. Krause - ${accounts[0]}\nB. Yilmaz - ${accounts[1]}\nC. Weber - ${accounts[2]}`;
      expectLayerVerdict(
        layer,
        { action: "send_email", target: "lohnbuero.extern@gmail.com", content: body },
        "BLOCK",
      );
    });

    test("a text calling itself an invoice does not excuse a list of three accounts", () => {
      const body = `Invoice refunds to process:\n${accounts.join("\n")}`;
      expectLayerVerdict(layer, email(body), "BLOCK");
    });

    test("ALLOWs an invoice giving its issuer's one or two accounts", () => {
      expectLayerVerdict(
        layer,
        email(`Rechnung 2024-17: bitte überweisen Sie auf ${accounts[0]}.`),
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        email(`Invoice 88: pay to ${accounts[0]} (EUR) or ${accounts[1]} (second account).`),
        "ALLOW",
      );
    });
  });

  describe("identifiers named by a table's header", () => {
    const csv = (body: string): ProtectRequest => ({
      action: "http_request",
      target: "https://import.crm-vendor.example/v1/upload",
      params: { method: "POST", body },
    });

    test("BLOCKs a column of bare SSNs and one of routing numbers under their headers", () => {
      expectLayerVerdict(
        layer,
        csv("employee,ssn,salary\nJ. Park,219457781,81000\nL. Soto,402118765,77000"),
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        email(
          "employee;routing;account\nJ. Park;021000021;4839201145\nL. Soto;011000015;9920114477",
        ),
        "BLOCK",
      );
    });

    test("BLOCKs SSNs listed after a plural key word", () => {
      expectLayerVerdict(
        layer,
        email("SSNs for the background checks: 219457781, 402118765"),
        "BLOCK",
      );
    });

    test("BLOCKs a contact table posted as a body param, header and all", () => {
      expectLayerVerdict(
        layer,
        csv(
          "name,email,phone\nAnna Roth,anna.roth@web.de,+49 151 2345 6789\nBen Ode,ben.ode@gmail.com,+49 160 9876 5432\nCleo Fix,cleo.fix@gmx.de,+49 170 1122 3344",
        ),
        "BLOCK",
      );
    });

    test("ALLOWs tables whose numbers fail the column's check or whose column is something else", () => {
      expectLayerVerdict(
        layer,
        csv("employee,ssn\nJ. Park,000123456\nL. Soto,666123456\nM. Ito,912345678"),
        "ALLOW",
      );
      expectLayerVerdict(layer, csv("x,sin,cos\n0.5,0.479,0.878\n1.0,0.841,0.540"), "ALLOW");
      expectLayerVerdict(layer, csv("order,amount\n219457781,120\n402118765,80"), "ALLOW");
    });
  });

  describe("national identifiers", () => {
    const cases: readonly (readonly [string, string])[] = [
      ["a US SSN", "Employee Ana Ruiz, SSN 219-45-7781"],
      ["a US SSN without dashes next to its name", "social security number: 219457781"],
      ["a UK National Insurance number", "national insurance number JT 47 21 93 B"],
      ["a French NIR", "numéro de sécurité sociale 2 55 08 14 168 025 38"],
      ["a German tax id", "Steuer-ID: 86095742719"],
      ["a Spanish DNI", "DNI 12345678Z"],
      ["a Spanish NIE", "NIE X1234567L"],
      ["an Italian codice fiscale", "codice fiscale RSSMRA85T10A562S"],
      ["a Dutch BSN", "BSN 111222333"],
      ["an Indian Aadhaar", `Aadhaar ${groups("234123412346", [4, 4, 4])}`],
      ["a Canadian SIN", `SIN ${groups(luhnNumber("1306925", 9), [3, 3, 3])}`],
      ["a Brazilian CPF", "CPF 111.444.777-35"],
      ["a Polish PESEL", "PESEL 44051401359"],
      ["a Chinese resident id", "身份证 11010519491231002X"],
    ];
    for (const [name, text] of cases) {
      test(`BLOCKs ${name} e-mailed outside`, () => {
        const request = email(text);
        assert.ok(
          codesOf(layer, request).includes("PII_NATIONAL_ID"),
          JSON.stringify(checkLayer(layer, request)),
        );
        expectLayerVerdict(layer, request, "BLOCK");
      });
    }

    test("WARNs on a national id pasted into a prompt", () => {
      expectLayerVerdict(
        layer,
        { action: "llm_prompt", content: "fill the form, my SSN is 219-45-7781" },
        "WARN",
      );
    });

    test("ALLOWs ids that fail their checksum or allocation rules, and documented examples", () => {
      expectLayerVerdict(layer, email("DNI 12345678A"), "ALLOW");
      expectLayerVerdict(layer, email("BSN 111222334"), "ALLOW");
      expectLayerVerdict(layer, email("ssn 000-12-3456 and 666-45-1234 must be rejected"), "ALLOW");
      expectLayerVerdict(layer, email("SSN format: 123-45-6789"), "ALLOW");
      expectLayerVerdict(layer, email("NI number format: QQ 12 34 56 C"), "ALLOW");
      expectLayerVerdict(layer, email("Aadhaar 2341 2341 2347"), "ALLOW");
      // 0 is never a first SIN digit: the government's own sample number starts with it.
      expectLayerVerdict(layer, email("SIN 046 454 286"), "ALLOW");
    });

    test("ALLOWs order, customer and tracking numbers", () => {
      expectLayerVerdict(
        layer,
        email("Order #88231-4411 shipped; customer no. 700123456789; tracking 1Z999AA10123456784."),
        "ALLOW",
      );
    });
  });

  describe("special categories, birth dates and contact lists", () => {
    test("BLOCKs health data about a named person sent outside", () => {
      const request = email(
        "Update: Olivia Grant was diagnosed with type 2 diabetes and is on sick leave.",
      );
      assert.deepEqual(codesOf(layer, request), ["PII_SPECIAL_CATEGORY"]);
      expectLayerVerdict(layer, request, "BLOCK");
    });

    for (const [name, text] of [
      ["religion", "FYI Sarah Jones is a devout Muslim."],
      ["sexual orientation", "Between us, he came out as gay last year - Mark Chen."],
      ["political opinion", "Lisa Wong is a registered member of the Green party."],
      ["trade-union membership", "Note: Peter Novak is a union member."],
      ["genetic data", "Her genetic test results show a BRCA1 mutation, says Dr. Patel."],
    ] as const) {
      test(`BLOCKs ${name} attached to a person`, () => {
        expectLayerVerdict(layer, email(text), "BLOCK");
      });
    }

    test("ALLOWs health topics with no person, unions of countries and health questions to a model", () => {
      expectLayerVerdict(
        layer,
        email("Many people are diagnosed with diabetes each year; our app helps them."),
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        email("Germany is a member of the European Union, said Anna Weber."),
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "llm_prompt", content: "My dad was diagnosed with diabetes, meal ideas?" },
        "ALLOW",
      );
    });

    test("WARNs on a date of birth next to a name sent outside", () => {
      assert.deepEqual(
        codesOf(layer, email("Booking for Julia Stone, date of birth 14.07.1990.")),
        ["PII_DATE_OF_BIRTH"],
      );
    });

    test("BLOCKs a birth date sent with a name and a home address (an identity kit)", () => {
      expectLayerVerdict(
        layer,
        email("Applicant Maria Lopez, born 1984-02-11, home address: 42 Elm Street, Springfield"),
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        email("Kunde Hans Meier, geboren am 03.04.1970, Hauptstraße 12, 10115 Berlin"),
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        email("Our office moved to 221 Baker Street; see you Monday. Jane Smith"),
        "ALLOW",
      );
    });

    test("BLOCKs a contact table export", () => {
      const rows = ["name,email,phone"];
      for (let i = 0; i < 6; i++) rows.push(`Person ${i},p${i}@inbox.example,+44 20 7946 01${i}0`);
      const request = {
        action: "http_request",
        target: "https://sink.example.net/import",
        params: { method: "POST" },
        content: rows.join("\n"),
      };
      assert.deepEqual(codesOf(layer, request), ["PII_CONTACT_EXPORT"]);
      expectLayerVerdict(layer, request, "BLOCK");
    });

    test("ALLOWs a lone address or number, a signature, a cc line and department contacts", () => {
      expectLayerVerdict(
        layer,
        email("Call me on +33 6 12 34 56 78 or write to jo@perso.example"),
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        email("Best,\nJane Doe | Sales | +1 415 555 0134 | jane@acme.example"),
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        email("cc: a@acme.example, b@acme.example, c@acme.example, d@acme.example"),
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        email(
          "Sales, sales@acme.example, +1 415 555 0100\nSupport, support@acme.example, +1 415 555 0101\nBilling, billing@acme.example, +1 415 555 0102",
        ),
        "ALLOW",
      );
    });

    test("does not count the recipients of a message as personal data in it", () => {
      const to = Array.from({ length: 20 }, (_, i) => `person${i}@inbox.example`);
      expectLayerVerdict(
        layer,
        {
          action: "send_email",
          target: to[0],
          content: "Team lunch Friday!",
          params: { to, cc: to },
        },
        "ALLOW",
      );
    });
  });

  test("BLOCKs personal data hidden in base64", () => {
    expectLayerVerdict(
      layer,
      email(Buffer.from("Patient Ana Ruiz, SSN 219-45-7781, DOB 1979-11-02").toString("base64")),
      "BLOCK",
    );
  });

  describe("personal data leaving through unknown tools", () => {
    const SSNS = ["318-44-2210", "604-33-6705", "412-56-7788"];

    test("BLOCKs cards in a JSON list posted to an outside API: the key is the context", () => {
      const request: ProtectRequest = {
        action: "http_request",
        target: "https://api.import-tool.example/contacts",
        params: {
          method: "POST",
          json: [
            { name: "A. Berg", card: luhnNumber("4916", 16) },
            { name: "C. Dahl", card: luhnNumber("5204", 16) },
          ],
        },
      };
      assert.deepEqual(codesOf(layer, request), ["PII_PAYMENT_CARD"]);
      expectLayerVerdict(layer, request, "BLOCK");
    });

    test("several bare card numbers are a list: WARN for one, BLOCK for three", () => {
      const post = (cards: string[]): ProtectRequest => ({
        action: "http_request",
        target: "https://api.validator.example/v1/check",
        params: { method: "POST", data: { values: cards } },
      });
      const cards = [luhnNumber("4916", 16), luhnNumber("5204", 16), luhnNumber("6011", 16)];
      expectLayerVerdict(layer, post(cards.slice(0, 1)), "WARN");
      expectLayerVerdict(layer, post(cards), "BLOCK");
    });

    test("BLOCKs card numbers in CSV cells", () => {
      const csv = `name,card,expiry\nLeah Brandt,${VISA},08/27\nOmar Kassis,${MASTERCARD},11/26`;
      expectLayerVerdict(layer, email(csv), "BLOCK");
    });

    test("BLOCKs identifiers sent to analytics and tracking tools", () => {
      expectLayerVerdict(
        layer,
        {
          action: "segment_identify",
          params: { traits: { name: "Rosa Mendel", social_security_number: "318442210" } },
        },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        {
          action: "amplitude_log_event",
          params: { event_properties: { card_number: VISA, holder: "Tariq Aziz" } },
        },
        "BLOCK",
      );
    });

    test("BLOCKs a passport number, birth date and name together: an identity kit", () => {
      const kit: ProtectRequest = {
        action: "mixpanel_track",
        params: {
          properties: {
            full_name: "Carlos Mendes",
            passport_number: "X1234567",
            dob: "1979-07-12",
          },
        },
      };
      expectLayerVerdict(layer, kit, "BLOCK");
      expectLayerVerdict(
        layer,
        { action: "mixpanel_track", params: { properties: { passport_number: "X1234567" } } },
        "WARN",
      );
    });

    test("a ticket is internal unless it is shared outside, by flag, party or host", () => {
      const content = `Customer Jane Rowe, DOB 1990-04-02, SSN ${SSNS[0]}.`;
      expectLayerVerdict(
        layer,
        { action: "create_ticket", content, params: { visibility: "internal" } },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        { action: "create_ticket", content, params: { visibility: "external" } },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "create_ticket", content, params: { cc: "jane.rowe.1990@yahoo.com" } },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "create_ticket", target: "support.supplier-portal.example", content },
        "BLOCK",
      );
    });

    test("WARNs on an identifier given to a model through an unknown tool name, BLOCKs a list", () => {
      expectLayerVerdict(
        layer,
        {
          action: "anthropic_messages",
          params: { messages: [{ role: "user", content: `is this valid: ${SSNS[0]}` }] },
        },
        "WARN",
      );
      expectLayerVerdict(
        layer,
        {
          action: "anthropic_messages",
          params: { messages: [{ role: "user", content: `dedupe: ${SSNS.join(", ")}` }] },
        },
        "BLOCK",
      );
    });

    test("ALLOWs identity data handed to a booking or KYC tool: that is its purpose", () => {
      const passenger = { name: "Anna Berg", passport_number: "X1234567", dob: "1985-05-05" };
      expectLayerVerdict(
        layer,
        { action: "book_flight", target: "https://api.airline.example/b", params: { passenger } },
        "ALLOW",
      );
      expectLayerVerdict(layer, { action: "track_signup", params: { passenger } }, "BLOCK");
    });

    test("a lone birth date sent by an unknown tool to its own API is no finding", () => {
      const params = { name: "John Smith", dob: "1980-01-01" };
      expectLayerVerdict(
        layer,
        { action: "update_user_profile", target: "https://api.myapp.example/u/42", params },
        "ALLOW",
      );
      expectLayerVerdict(layer, { action: "send_profile", target: "@someone", params }, "WARN");
    });

    test("ALLOWs personal data posted to an internal service", () => {
      expectLayerVerdict(
        layer,
        {
          action: "http_request",
          target: "https://hr.internal/api/employees",
          params: { method: "POST", json: { name: "Nora Field", ssn: SSNS[1], dob: "1990-01-04" } },
        },
        "ALLOW",
      );
    });

    test("ALLOWs ordinary analytics and a masked card in a public reply", () => {
      expectLayerVerdict(
        layer,
        {
          action: "segment_track",
          params: { event: "Plan Upgraded", properties: { plan: "pro", email: "rosa@x.example" } },
        },
        "ALLOW",
      );
      expectLayerVerdict(
        layer,
        {
          action: "zendesk_create_ticket",
          content: "The card ending 4242 was charged twice for order 88121.",
          params: { comment_visibility: "public_reply" },
        },
        "ALLOW",
      );
    });
  });

  describe("more identifiers and languages", () => {
    test("BLOCKs national numbers with their key words", () => {
      for (const text of [
        "AHV-Nr. 756.9217.0769.85 for Lukas Meier",
        "Candidate Tan Wei Ming, NRIC S1234567D",
        "My TFN is 123 456 782",
        "Rijksregisternummer: 85.07.30-033.28",
        "주민등록번호 850315-1234566",
        "CURP del cliente: HEGG560427MVZRRL04",
        "Patient John Price, NHS number 943 476 5919",
        "ITIN 912-70-1234 for Maria Lopez",
      ]) {
        expectLayerVerdict(layer, email(text), "BLOCK");
      }
    });

    test("a dotted SSN needs its key word", () => {
      expectLayerVerdict(layer, email("SSN 523.48.7140 for Tom"), "BLOCK");
      expectLayerVerdict(layer, email("Build 523.48.7140 is out"), "ALLOW");
    });

    test("an export to a partner's bucket leaves the organisation", () => {
      const content = "name,ssn\nA B,523-48-7140\nC D,604-33-6705";
      expectLayerVerdict(
        layer,
        { action: "crm_export", params: { destination: "s3://partner-drop/x" }, content },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        { action: "crm_export", params: { destination: "s3://acme-backups/x" }, content },
        "ALLOW",
      );
    });

    test("BLOCKs a passport machine-readable zone", () => {
      const mrz = `P<UTOERIKSSON<<ANNA<MARIA${"<".repeat(20)}\nL898902C36UTO7408122F1204159ZE184226B<<<<<10`;
      expectLayerVerdict(layer, email(`Scan of the passport:\n${mrz}`), "BLOCK");
    });

    test("BLOCKs a US routing and account number, ALLOWs them on an invoice", () => {
      expectLayerVerdict(
        layer,
        email("Direct deposit for Sam Cole: routing 021000021, account 4400012345678"),
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        email(
          "Invoice 117: please remit to our account, routing 021000021, account 4400012345678.",
        ),
        "ALLOW",
      );
      expectLayerVerdict(layer, email("Use routing number 021000021 on the wire form."), "ALLOW");
    });

    test("card context words in other languages make a bare number a card", () => {
      for (const word of ["Kreditkarte", "Número de tarjeta", "numéro de carte", "cartão"]) {
        expectLayerVerdict(layer, email(`${word}: ${VISA}`), "BLOCK");
      }
    });

    test("ALLOWs a barcode that only looks like a Swiss AHV number", () => {
      expectLayerVerdict(layer, email("Please ship 40 units of EAN 7569217348518."), "ALLOW");
    });
  });

  describe("round 4: cards next to their expiry, dotted cards, identity kits in prompts", () => {
    test("BLOCKs a card number followed or preceded by its expiry and CVV in a public post", () => {
      for (const content of [
        `found a card on the floor: ${VISA} 09/27 cvv 318`,
        `exp 04/28 ${MASTERCARD} cvc 771, who lost this?`,
        `card ${groups(VISA, [4, 4, 4, 4])} 11/29 lol`,
      ]) {
        expectLayerVerdict(layer, { action: "tweet", content }, "BLOCK");
      }
    });

    test("BLOCKs a card written with dots between its groups", () => {
      expectLayerVerdict(
        layer,
        { action: "tweet", content: `card nr ${groups(VISA, [4, 4, 4, 4], ".")} exp 02/27` },
        "BLOCK",
      );
    });

    test("a number that swallowed a short group needs card words to count", () => {
      // Without card words a 16+3 digit run is just a long reference number.
      expectLayerVerdict(layer, { action: "tweet", content: `ref ${VISA} 318 shipped` }, "ALLOW");
      expectLayerVerdict(layer, { action: "tweet", content: `visa ${VISA} 318` }, "BLOCK");
    });

    test("ALLOWs a longer grouped number whose tail is one digit", () => {
      const seventeen = luhnNumber("5031", 17);
      expectLayerVerdict(
        layer,
        { action: "tweet", content: `log id ${groups(seventeen, [4, 4, 4, 4, 1])} at 11/26` },
        "ALLOW",
      );
    });

    test("BLOCKs a prompt carrying a card and an SSN, or a list of identifiers", () => {
      const ssnA = "231-45-6781";
      const ssnB = "532-18-4470";
      const ssnC = "418-62-9035";
      const list = [ssnA, ssnB, ssnC, "209-71-3358", "347-20-1196"];
      expectLayerVerdict(
        layer,
        {
          action: "llm_api.call",
          target: "https://api.llm-proxy.example/v1/chat",
          content: `Assess risk: A. Lind, SSN ${ssnA}, card ${VISA}`,
        },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        {
          action: "openai.chat",
          content: `Dedupe these customers:\n${list.map((n, i) => `row ${i}, SSN ${n}`).join("\n")}`,
        },
        "BLOCK",
      );
      // One identifier in a prompt stays a WARN.
      expectLayerVerdict(
        layer,
        { action: "openai.chat", content: `Is SSN ${ssnA} well formed?` },
        "WARN",
      );
    });

    test("BLOCKs a contact record shared with partners by its visibility flag", () => {
      expectLayerVerdict(
        layer,
        {
          action: "crm.update_contact",
          params: {
            id: "C-7",
            notes: `Amex ${AMEX} exp 04/28`,
            visibility: "shared_with_partners",
          },
        },
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        {
          action: "crm.update_contact",
          params: { id: "C-7", notes: `Amex ${AMEX} exp 04/28`, visibility: "internal" },
        },
        "WARN",
      );
    });

    test("BLOCKs a diagnosis stated right after a person's record", () => {
      expectLayerVerdict(
        layer,
        email(
          "Study list: Dana Whitfield (DOB 1961-03-14) diagnosed with HIV; Omar Haddad on chemotherapy.",
        ),
        "BLOCK",
      );
      expectLayerVerdict(
        layer,
        email("Patients diagnosed with diabetes benefit from regular eye exams; see the leaflet."),
        "ALLOW",
      );
    });
  });

  test("stays linear on 64 KB of digits, addresses and phone numbers", () => {
    const piece = `${VISA.slice(0, 15)}1 tel +1 (415) 555-0100 a@b.co, `;
    const content = piece.repeat(Math.ceil(65_536 / piece.length)).slice(0, 65_536);
    const started = process.hrtime.bigint();
    checkLayer(layer, email(content));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.ok(ms < 500, `took ${ms} ms`);
  });
});
