import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TimestampRequestError } from '../../../src/evidence/anchors/rfc3161/timestamp-errors.js';
import { requestTimestamp } from '../../../src/evidence/anchors/rfc3161/tsa-client.js';
import { verifyTimestampToken } from '../../../src/evidence/anchors/rfc3161/verify-timestamp-token.js';
import { createUnrelatedCaPem, startLocalTsa, type LocalTsa } from '../../helpers/local-tsa.js';

const digestOf = (text: string) => new Uint8Array(createHash('sha256').update(text).digest());

describe('RFC 3161 timestamps against a local openssl TSA', () => {
  let tsa: LocalTsa;
  let token: Uint8Array;
  const digest = digestOf('tree head 42');

  beforeAll(async () => {
    tsa = await startLocalTsa();
    const result = await requestTimestamp({ tsaUrl: tsa.url, digest, nonce: 0x1234_5678_9abc_def0n });
    token = result.token;
    expect(result.nonce).toBe(0x1234_5678_9abc_def0n);
    expect(Math.abs(result.genTime.getTime() - Date.now())).toBeLessThan(60_000);
    expect(result.serialNumberHex).toMatch(/^[0-9a-f]+$/);
    expect(result.tsaName).toContain('CN=Guardian Test TSA');
  });

  afterAll(async () => {
    await tsa.close();
  });

  it('verifies a fresh token offline: signature, binding, EKU, chain and imprint', async () => {
    const verification = await verifyTimestampToken({ token, digest, trustedRoots: [tsa.caPem] });
    expect(verification.checks.map((check) => [check.name, check.passed])).toEqual([
      ['token-format', true],
      ['cms-signature', true],
      ['signing-certificate-binding', true],
      ['timestamping-eku', true],
      ['certificate-chain', true],
      ['message-imprint', true],
    ]);
    expect(verification.valid).toBe(true);
  });

  it('accepts the root as DER bytes too', async () => {
    const der = Buffer.from(tsa.caPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const verification = await verifyTimestampToken({ token, digest, trustedRoots: [new Uint8Array(der)] });
    expect(verification.valid).toBe(true);
  });

  it('fails the imprint check for another digest', async () => {
    const verification = await verifyTimestampToken({
      token,
      digest: digestOf('tree head 43'),
      trustedRoots: [tsa.caPem],
    });
    expect(verification.valid).toBe(false);
    expect(failed(verification.checks)).toEqual(['message-imprint']);
  });

  it('fails the chain check under another root', async () => {
    const otherRoot = await createUnrelatedCaPem(tsa.dir);
    const verification = await verifyTimestampToken({ token, digest, trustedRoots: [otherRoot] });
    expect(failed(verification.checks)).toEqual(['certificate-chain']);
    expect(verification.valid).toBe(false);
  });

  it('fails the chain check when no root is given', async () => {
    const verification = await verifyTimestampToken({ token, digest, trustedRoots: [] });
    expect(failed(verification.checks)).toEqual(['certificate-chain']);
  });

  it('fails when a byte of the signed TSTInfo is changed', async () => {
    const tampered = token.slice();
    const genTimeAt = Buffer.from(tampered).indexOf(Buffer.from(String(new Date().getUTCFullYear())));
    expect(genTimeAt).toBeGreaterThan(0);
    tampered[genTimeAt + 3] = tampered[genTimeAt + 3]! ^ 0x01;
    const verification = await verifyTimestampToken({ token: tampered, digest, trustedRoots: [tsa.caPem] });
    expect(verification.valid).toBe(false);
    expect(failed(verification.checks)).toContain('cms-signature');
  });

  it('fails when the signature bytes are changed', async () => {
    const tampered = token.slice();
    tampered[tampered.length - 5] = tampered[tampered.length - 5]! ^ 0xff;
    const verification = await verifyTimestampToken({ token: tampered, digest, trustedRoots: [tsa.caPem] });
    expect(verification.valid).toBe(false);
    expect(failed(verification.checks)).toContain('cms-signature');
  });

  it('fails the certificate binding and chain when the carried signer certificate is altered', async () => {
    const tampered = token.slice();
    const subjectAt = Buffer.from(tampered).lastIndexOf(Buffer.from('Guardian Test TSA'));
    expect(subjectAt).toBeGreaterThan(0);
    tampered[subjectAt] = 'X'.charCodeAt(0);
    const verification = await verifyTimestampToken({ token: tampered, digest, trustedRoots: [tsa.caPem] });
    expect(failed(verification.checks)).toEqual(['signing-certificate-binding', 'certificate-chain']);
  });

  it('reports a token that does not parse as one failed check', async () => {
    const verification = await verifyTimestampToken({
      token: token.subarray(0, 40),
      digest,
      trustedRoots: [tsa.caPem],
    });
    expect(verification.valid).toBe(false);
    expect(failed(verification.checks)).toEqual(['token-format']);
  });

  it('turns a TSA rejection into a typed error carrying its status text', async () => {
    await tsa.setAcceptedDigests(['sha512']);
    try {
      const error = await requestTimestamp({ tsaUrl: tsa.url, digest }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TimestampRequestError);
      expect((error as TimestampRequestError).reason).toBe('rejected');
      expect((error as TimestampRequestError).message).toMatch(/status rejection.*badAlg/);
    } finally {
      await tsa.setAcceptedDigests(['sha256']);
    }
  });

  it.each([
    ['garbage', 'malformed-response'],
    ['http-error', 'http-status'],
    ['reply-to-other-query', 'nonce-mismatch'],
  ] as const)('a TSA answering %s yields a %s error', async (behaviour, reason) => {
    tsa.setBehaviour(behaviour);
    try {
      const error = await requestTimestamp({ tsaUrl: tsa.url, digest }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TimestampRequestError);
      expect((error as TimestampRequestError).reason).toBe(reason);
    } finally {
      tsa.setBehaviour('reply');
    }
  });

  it('gives up on a TSA that does not answer with a timeout error', async () => {
    tsa.setBehaviour('silent');
    try {
      const error = await requestTimestamp({ tsaUrl: tsa.url, digest, timeoutMs: 300 }).catch(
        (caught: unknown) => caught,
      );
      expect((error as TimestampRequestError).reason).toBe('timeout');
    } finally {
      tsa.setBehaviour('reply');
    }
  });

  it('reports an unreachable TSA as a network error', async () => {
    const error = await requestTimestamp({ tsaUrl: 'http://127.0.0.1:1/tsa', digest }).catch(
      (caught: unknown) => caught,
    );
    expect((error as TimestampRequestError).reason).toBe('network');
  });

  it('refuses a digest that is not 32 bytes before sending anything', async () => {
    await expect(requestTimestamp({ tsaUrl: tsa.url, digest: new Uint8Array(20) })).rejects.toThrow(
      /32 bytes/,
    );
  });
});

describe('RFC 3161 with an RSA TSA key', () => {
  it('requests and verifies a token signed with RSA PKCS#1 v1.5', async () => {
    const tsa = await startLocalTsa({ tsaKey: 'rsa' });
    try {
      const digest = digestOf('tree head 99');
      const { token } = await requestTimestamp({ tsaUrl: tsa.url, digest });
      const verification = await verifyTimestampToken({ token, digest, trustedRoots: [tsa.caPem] });
      expect(failed(verification.checks)).toEqual([]);
      expect(verification.valid).toBe(true);
    } finally {
      await tsa.close();
    }
  });
});

function failed(checks: Array<{ name: string; passed: boolean }>): string[] {
  return checks.filter((check) => !check.passed).map((check) => check.name);
}
