import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import nodemailer from "nodemailer";
import type { Logger } from "../logger.js";

export type MailMessage = Readonly<{
  to: string;
  subject: string;
  text: string;
  /** The action link the message carries, logged in outbox mode so a developer can click it. */
  link: string;
}>;

/** Sends e-mail; the two real implementations are SMTP and a file outbox. */
export type Mailer = Readonly<{
  send(message: MailMessage): Promise<void>;
  close(): void;
}>;

/** Sends through the SMTP server at `url` (smtp:// or smtps://, credentials in the URL). */
export function smtpMailer(url: string, from: string, logger: Logger): Mailer {
  const transport = nodemailer.createTransport(url);
  return {
    async send(message) {
      await transport.sendMail({
        from,
        to: message.to,
        subject: message.subject,
        text: message.text,
      });
      logger.info({ to_domain: message.to.split("@")[1] }, "e-mail sent over SMTP");
    },
    close: () => transport.close(),
  };
}

/**
 * Writes each message as an RFC 5322 `.eml` file into `dir` (mode 0600: it holds a live link)
 * and logs the link; the default when no SMTP server is configured.
 */
export function outboxMailer(dir: string, from: string, logger: Logger): Mailer {
  const builder = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    newline: "unix",
  });
  return {
    async send(message) {
      const built = await builder.sendMail({
        from,
        to: message.to,
        subject: message.subject,
        text: message.text,
      });
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const stamp = new Date().toISOString().replace(/[:.]/g, "-");
      const file = join(dir, `${stamp}-${randomBytes(4).toString("hex")}.eml`);
      await writeFile(file, built.message as Buffer, { mode: 0o600, flag: "wx" });
      logger.info({ file, link: message.link }, "e-mail written to outbox");
    },
    close: () => builder.close(),
  };
}

/**
 * Sends a message whose change is already committed: a failure is logged (with `context`, never
 * the message) rather than thrown, since the recipient can ask for a new one.
 */
export async function sendOrLog(
  mailer: Mailer,
  logger: Logger,
  message: MailMessage,
  context: Readonly<Record<string, string>>,
): Promise<void> {
  try {
    await mailer.send(message);
  } catch (err) {
    logger.error({ err, ...context }, `${message.subject}: e-mail could not be sent`);
  }
}
