import { assertSha256Digest } from '../anchor-digest.js';
import { TimestampRequestError } from './timestamp-errors.js';
import { encodeTimestampRequest, randomNonce } from './timestamp-request.js';
import { acceptTimestampResponse, errorText, type GrantedTimestamp } from './timestamp-response.js';

export interface TimestampRequestOptions {
  tsaUrl: string;
  /** SHA-256 of the thing to timestamp (a signed tree head). */
  digest: Uint8Array;
  nonce?: bigint;
  fetch?: typeof globalThis.fetch;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface TimestampResult extends GrantedTimestamp {
  nonce: bigint;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const MAX_RESPONSE_BYTES = 1024 * 1024;

/** Asks a TSA to timestamp `digest` over HTTP (RFC 3161 §3.4); resolves only with a token bound to our request. */
export async function requestTimestamp(options: TimestampRequestOptions): Promise<TimestampResult> {
  assertSha256Digest(options.digest);
  const nonce = options.nonce ?? randomNonce();
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const body = await post(options, encodeTimestampRequest(options.digest, nonce), signal, timeout);
  return { ...acceptTimestampResponse(body, options.digest, nonce), nonce };
}

async function post(
  options: TimestampRequestOptions,
  request: Uint8Array,
  signal: AbortSignal,
  timeout: AbortSignal,
): Promise<Uint8Array> {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  try {
    const response = await fetchImpl(options.tsaUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
      body: request,
      signal,
    });
    if (!response.ok) {
      throw new TimestampRequestError(
        'http-status',
        `TSA answered HTTP ${response.status} ${response.statusText}`,
      );
    }
    const body = new Uint8Array(await response.arrayBuffer());
    if (body.length > MAX_RESPONSE_BYTES) {
      throw new TimestampRequestError(
        'malformed-response',
        `TSA response is ${body.length} bytes, over the limit`,
      );
    }
    return body;
  } catch (error) {
    if (error instanceof TimestampRequestError) throw error;
    if (timeout.aborted) {
      throw new TimestampRequestError('timeout', `TSA did not answer within the timeout`, { cause: error });
    }
    throw new TimestampRequestError('network', `TSA could not be reached: ${errorText(error)}`, {
      cause: error,
    });
  }
}
