import { createServer } from 'node:http';

/** Plain-HTTP listener that sends every request to the HTTPS origin (HSTS then keeps browsers there). */
export async function startHttpsRedirect(options: {
  host: string;
  port: number;
  httpsPort: number;
}): Promise<{ close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const hostname = (request.headers.host ?? options.host)
      .replace(/:\d+$/, '')
      .replace(/[^A-Za-z0-9.\-[\]:]/g, '');
    const port = options.httpsPort === 443 ? '' : `:${options.httpsPort}`;
    const path = (request.url ?? '/').startsWith('/') ? (request.url ?? '/') : '/';
    response.writeHead(301, {
      location: `https://${hostname}${port}${path}`,
      'content-length': '0',
      'cache-control': 'no-store',
    });
    response.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return { close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
