import type { FastifyReply } from 'fastify';
import type { ArtifactContent } from '../services/analysis-artifacts.service.js';

// Served under their own type; anything else a detector declares goes out as bytes.
const servedArtifactTypes = new Set([
  'application/json',
  'image/png',
  'image/jpeg',
  'image/x-portable-graymap',
  'image/x-portable-pixmap',
  'text/csv',
]);

/** The bytes as a download that no browser renders or sniffs into something active. */
export function sendArtifact(reply: FastifyReply, { entry, data }: ArtifactContent): FastifyReply {
  const { contentType, sha256, name } = entry.listing;
  const served = servedArtifactTypes.has(contentType) ? contentType : 'application/octet-stream';
  reply.headers({
    'content-type': served,
    'content-length': String(data.length),
    etag: `"${sha256}"`,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
  });
  // Names are [a-z0-9.-] (checked when the analysis ran), so the plain quoted form is exact.
  if (served !== 'application/json') reply.header('content-disposition', `attachment; filename="${name}"`);
  return reply.send(data);
}
