import nodemailer from 'nodemailer';
import { isLoopback } from '../config/load-config.js';
import type { MailTransport } from '../services/mailer.js';

/**
 * nodemailer over SMTP_URL. `smtps://` is TLS from the start; a plain `smtp://` server that is not on
 * loopback must upgrade with STARTTLS, so credentials and reset links never cross a network in clear.
 */
export function createSmtpMailTransport(deps: { url: string }): MailTransport {
  const { protocol, hostname } = new URL(deps.url);
  if (protocol !== 'smtp:' && protocol !== 'smtps:')
    throw new Error('SMTP_URL must start with smtp:// or smtps://');
  const transporter = nodemailer.createTransport({
    url: deps.url,
    requireTLS: protocol === 'smtp:' && !isLoopback(hostname.replace(/^\[|\]$/g, '')),
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000,
    // nodemailer's own logger would print message contents (reset links) at debug level.
    logger: false,
    debug: false,
  });
  return {
    async deliver(mail) {
      await transporter.sendMail({
        from: mail.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        disableFileAccess: true,
        disableUrlAccess: true,
      });
    },
    async close() {
      transporter.close();
    },
  };
}
