import { isIP } from 'node:net';
import type { Config } from '../config/config.schema.js';

/** PUBLIC_URL, or where this server listens (development): the base of links sent by mail. */
export function publicBaseUrl(config: Pick<Config, 'PUBLIC_URL' | 'HOST' | 'PORT'>): string {
  if (config.PUBLIC_URL) return config.PUBLIC_URL;
  const unspecified = config.HOST === '0.0.0.0' || config.HOST === '::';
  const host = unspecified ? 'localhost' : isIP(config.HOST) === 6 ? `[${config.HOST}]` : config.HOST;
  return `http://${host}:${config.PORT}`;
}

/** MAIL_FROM, or `guardian@` the public host (production with SMTP requires MAIL_FROM). */
export function mailSender(config: Pick<Config, 'MAIL_FROM'>, publicUrl: string): string {
  if (config.MAIL_FROM) return config.MAIL_FROM;
  const host = new URL(publicUrl).hostname;
  return `SecureAI Guardian <guardian@${isIP(host.replace(/^\[|\]$/g, '')) ? 'localhost' : host}>`;
}
