import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  auditEntryHash,
  canonicalAuditEntry,
  genesisHash,
  type ChainedAuditEntry,
} from '../../src/services/audit-chain.js';
import { sanitiseAuditDetails } from '../../src/services/audit-log.service.js';

const entry: ChainedAuditEntry = {
  seq: 1,
  id: '0b9f3c1e-8d2a-4c6b-9e1f-2a3b4c5d6e7f',
  at: new Date('2025-03-01T12:00:00.123Z'),
  orgId: null,
  actorType: 'cli',
  actorId: null,
  action: 'apikey.create',
  outcome: 'success',
  targetType: 'api-key',
  targetId: 'k1',
  ip: null,
  userAgent: null,
  details: { role: 'admin', b: 1, a: true, n: null },
  prevHash: genesisHash,
};

// Written out by hand: the format is a contract with external verifiers, not whatever the code does today.
const expectedCanonical =
  '{"action":"apikey.create","actorId":null,"actorType":"cli","at":"2025-03-01T12:00:00.123Z",' +
  '"details":{"a":true,"b":1,"n":null,"role":"admin"},"format":"guardian-audit-v1",' +
  '"id":"0b9f3c1e-8d2a-4c6b-9e1f-2a3b4c5d6e7f","ip":null,"orgId":null,"outcome":"success",' +
  `"prevHash":"${'0'.repeat(64)}","seq":1,"targetId":"k1","targetType":"api-key","userAgent":null}`;

describe('audit chain format', () => {
  it('serialises every field, sorted, nulls explicit, UTC milliseconds, no whitespace', () => {
    expect(canonicalAuditEntry(entry)).toBe(expectedCanonical);
  });

  it('hashes the canonical form with SHA-256 (pinned vector)', () => {
    expect(auditEntryHash(entry)).toBe('2137a69faae920e1fb71ea324d24b257fbd07b157c5db20a6b09201eb655715c');
    expect(auditEntryHash(entry)).toBe(createHash('sha256').update(expectedCanonical).digest('hex'));
  });

  it('changes the hash when any single field changes', () => {
    const variants: Partial<ChainedAuditEntry>[] = [
      { seq: 2 },
      { id: '0b9f3c1e-8d2a-4c6b-9e1f-2a3b4c5d6e70' },
      { at: new Date('2025-03-01T12:00:00.124Z') },
      { orgId: '0b9f3c1e-8d2a-4c6b-9e1f-2a3b4c5d6e7f' },
      { actorType: 'anonymous' },
      { actorId: 'x' },
      { action: 'apikey.revoke' },
      { outcome: 'failure' },
      { targetType: 'user' },
      { targetId: 'k2' },
      { ip: '' },
      { userAgent: 'curl' },
      { details: { role: 'admin', b: 1, a: true } },
      { details: { role: 'admin', b: 2, a: true, n: null } },
      { prevHash: 'f'.repeat(64) },
    ];
    const hashes = new Set(variants.map((variant) => auditEntryHash({ ...entry, ...variant })));
    hashes.add(auditEntryHash(entry));
    expect(hashes.size).toBe(variants.length + 1);
  });

  it('does not depend on the order details were given in', () => {
    expect(auditEntryHash({ ...entry, details: { n: null, a: true, role: 'admin', b: 1 } })).toBe(
      auditEntryHash(entry),
    );
  });
});

describe('audit details sanitising', () => {
  it('redacts values under keys named like secrets, keeps harmless look-alikes', () => {
    const cleaned = sanitiseAuditDetails({
      password: 'hunter2',
      newPassword: 'hunter3',
      reset_token: 'abc',
      clientSecret: 's',
      apiKey: 'k',
      key: 'k',
      totpCode: '123456',
      recovery_code: 'r',
      otp: '1',
      sessionCookie: 'c',
      Authorization: 'Bearer x',
      codec: 'h264',
      monkey: 'business',
      role: 'admin',
    });
    expect(cleaned).toEqual({
      password: '[redacted]',
      newPassword: '[redacted]',
      reset_token: '[redacted]',
      clientSecret: '[redacted]',
      apiKey: '[redacted]',
      key: '[redacted]',
      totpCode: '[redacted]',
      recovery_code: '[redacted]',
      otp: '[redacted]',
      sessionCookie: '[redacted]',
      Authorization: '[redacted]',
      codec: 'h264',
      monkey: 'business',
      role: 'admin',
    });
  });

  it('redacts an API key wherever it appears in a value', () => {
    const key = `sag_${'A'.repeat(43)}`;
    expect(sanitiseAuditDetails({ note: `used ${key} here` })).toEqual({ note: 'used sag_[redacted] here' });
  });

  it('truncates long strings, bounds the number of keys, and drops what is not a scalar', () => {
    const many = Object.fromEntries(Array.from({ length: 50 }, (_, index) => [`k${index}`, index]));
    expect(Object.keys(sanitiseAuditDetails(many))).toHaveLength(32);
    const cleaned = sanitiseAuditDetails({
      long: 'x'.repeat(10_000),
      nested: { password: 'p' },
      infinite: Number.POSITIVE_INFINITY,
    });
    expect(String(cleaned.long)).toHaveLength(256);
    expect(String(cleaned.long).endsWith('…')).toBe(true);
    expect(cleaned.nested).toBe('[unsupported value]');
    expect(cleaned.infinite).toBeNull();
  });

  it('keeps text storable: NUL and lone surrogates become U+FFFD; __proto__ stays plain data', () => {
    const cleaned = sanitiseAuditDetails(JSON.parse('{"__proto__": "x", "text": "a\\u0000b\\ud800c"}'));
    expect(Object.getPrototypeOf(cleaned)).toBe(Object.prototype);
    expect(Object.keys(cleaned)).toEqual(['__proto__', 'text']);
    expect(cleaned.text).toBe('a\uFFFDb\uFFFDc');
  });
});
