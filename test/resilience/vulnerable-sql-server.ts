import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { provisionPGliteDataDir } from '../../src/db/pglite-data-dir.js';
import { testLogger } from '../helpers/databases.js';
import type { OpenApiDocument } from './sqlmap-targets.js';

/**
 * A deliberately injectable loopback HTTP server: SQL built by string concatenation against an in-memory
 * PGlite, the value taken from a path segment, a query parameter, a JSON body field or a header. It exists
 * only so the injection suite can prove that its sqlmap harness reports an injection when there is one.
 */
export interface VulnerableServer {
  url: string;
  /** Its routes, described the way the platform describes its own. */
  openApi: OpenApiDocument;
  close(): Promise<void>;
}

const text = { type: 'string' };
const openApi: OpenApiDocument = {
  paths: {
    '/items/{name}': { get: { parameters: [{ in: 'path', name: 'name', schema: text }] } },
    '/items': { get: { parameters: [{ in: 'query', name: 'name', schema: text }] } },
    '/search': {
      post: {
        requestBody: {
          content: { 'application/json': { schema: { type: 'object', properties: { name: text } } } },
        },
      },
    },
    '/by-header': { get: { parameters: [{ in: 'header', name: 'x-item', schema: text }] } },
  },
};

export async function startVulnerableServer(): Promise<VulnerableServer> {
  // A copy of the install-time template opens in a fraction of initdb's time.
  const dir = await mkdtemp(join(tmpdir(), 'guardian-vulnerable-'));
  await provisionPGliteDataDir(join(dir, 'db'), { log: testLogger() });
  const db = new PGlite(join(dir, 'db'));
  await db.exec(
    "create table items (id int primary key, name text); insert into items values (1, 'probe'), (2, 'other');",
  );
  const nameOf = async (request: IncomingMessage, url: URL): Promise<string | undefined> => {
    if (url.pathname.startsWith('/items/')) return decodeURIComponent(url.pathname.slice('/items/'.length));
    if (url.pathname === '/items') return url.searchParams.get('name') ?? undefined;
    if (url.pathname === '/by-header') return [request.headers['x-item']].flat()[0];
    if (url.pathname === '/search') {
      let body = '';
      for await (const chunk of request) body += String(chunk);
      return (JSON.parse(body) as { name?: string }).name;
    }
    return undefined;
  };
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    nameOf(request, url)
      .then(async (name) => {
        if (name === undefined) return response.writeHead(404).end();
        // The defect on purpose: the value is pasted into the SQL text.
        const { rows } = await db.query(`select id, name from items where name = '${name}'`);
        response.writeHead(rows.length > 0 ? 200 : 404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ items: rows }));
      })
      .catch(() => response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"failed"}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    openApi,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
