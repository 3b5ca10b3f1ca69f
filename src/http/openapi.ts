import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from './build-app.js';

const unreachable = () => {
  throw new Error('documentation build: no service is called');
};

/** The OpenAPI document as served, built from the route schemas without any I/O. */
export async function renderOpenApi(): Promise<string> {
  const inert = new Proxy({}, { get: () => unreachable }) as never;
  const app: FastifyInstance = await buildApp({
    log: pino({ level: 'silent' }),
    authenticator: inert,
    apiKeys: inert,
    sessions: inert,
    allowInsecureSessionCookie: false,
    mediaService: inert,
    storedMedia: inert,
    analysisService: inert,
    analysisArtifacts: inert,
    analyses: inert,
    audit: inert,
    evidence: inert,
    transparencyLog: inert,
    history: inert,
    reanalysis: inert,
    accountSecurity: {
      twoFactor: inert,
      passwordReset: inert,
      invites: inert,
      outbox: inert,
      mailDelivery: 'outbox',
    },
    events: inert,
    healthChecks: [],
    uploads: { handler: inert },
    maxUploadBytes: 1,
    trustedProxies: [],
  });
  await app.ready();
  const document = app.swagger();
  await app.close();
  return `${JSON.stringify(document, null, 2)}\n`;
}
