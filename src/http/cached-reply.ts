import type { FastifyReply } from 'fastify';
import type { ReadCache } from '../cache/read-cache.js';

/**
 * Sends the organisation's cached reply for `key`, else the view `load` builds, serialized by this route's
 * own response schema: a cached body is byte for byte what the uncached route would have sent. Errors
 * (404, 403) come from `load` and are never cached.
 */
export async function sendCachedJson(
  reply: FastifyReply,
  cache: ReadCache,
  scope: { orgId: string; key: string },
  load: () => Promise<{ view: unknown; cacheable: boolean }>,
): Promise<FastifyReply> {
  const body = await cache.read(scope.orgId, scope.key, async () => {
    const { view, cacheable } = await load();
    const body = reply.serialize(view);
    // JSON schema serializers return strings; anything else is not JSON to keep.
    if (typeof body !== 'string') throw new Error('the route serialized its reply to bytes, not JSON text');
    return { body, cacheable };
  });
  // A string with a JSON type is sent as it is: no second serialization.
  return reply.type('application/json; charset=utf-8').send(body);
}
