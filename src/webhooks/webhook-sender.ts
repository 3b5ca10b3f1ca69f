import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { CheckedDestination } from './webhook-destination.js';

/** What one attempt got: a status (any, 2xx is success), or an error before one. */
export interface SendResult {
  status: number | null;
  /** The first characters of the response body, printable only. */
  excerpt: string | null;
  error: string | null;
  durationMs: number;
}

export type SendWebhook = (input: {
  destination: CheckedDestination;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}) => Promise<SendResult>;

const excerptChars = 200;
// Read at most this much of a response body; the rest is never received.
const maxBodyBytes = 4096;

const printable = (text: string) =>
  text
    .replace(/[^\x20-\x7e\u00a0-\uffff]+/g, ' ')
    .trim()
    .slice(0, excerptChars);

/**
 * POSTs to the checked address only: the socket's lookup answers with it (no second DNS query, so a
 * rebinding name cannot switch it), TLS still verifies the URL's host name, and redirects are not followed.
 */
export const sendWebhook: SendWebhook = ({ destination, headers, body, timeoutMs }) => {
  const started = performance.now();
  const { url, address, family } = destination;
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (result: Omit<SendResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, durationMs: Math.round(performance.now() - started) });
    };
    const outgoing = request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: pinned,
        agent: false,
      },
      (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let received = 0;
        const done = () => {
          finish({
            status: response.statusCode ?? null,
            excerpt: received > 0 ? printable(Buffer.concat(chunks).toString('utf8')) || null : null,
            error: null,
          });
          response.destroy();
        };
        response.on('data', (chunk: Buffer) => {
          if (received < maxBodyBytes) chunks.push(chunk.subarray(0, maxBodyBytes - received));
          received += chunk.length;
          if (received >= maxBodyBytes) done();
        });
        response.on('end', done);
        response.on('error', done);
      },
    );
    const timer = setTimeout(() => {
      finish({ status: null, excerpt: null, error: `no response within ${timeoutMs} ms` });
      outgoing.destroy();
    }, timeoutMs);
    outgoing.on('error', (error: NodeJS.ErrnoException) =>
      finish({ status: null, excerpt: null, error: (error.code ?? error.message).slice(0, 200) }),
    );
    outgoing.end(body);
  });
};
