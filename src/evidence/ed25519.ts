import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

// DER SubjectPublicKeyInfo of an Ed25519 key is this fixed prefix followed by the 32 raw key bytes (RFC 8410).
const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');

/** The 32 raw bytes of an Ed25519 public key (what the key id hashes and bundles carry, base64). */
export function rawPublicKey(key: KeyObject): Buffer {
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return publicKey.export({ format: 'der', type: 'spki' }).subarray(spkiPrefix.length);
}

export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new Error(`an Ed25519 public key has 32 bytes, not ${raw.length}`);
  return createPublicKey({ key: Buffer.concat([spkiPrefix, raw]), format: 'der', type: 'spki' });
}

/** Key id = lowercase hex SHA-256 of the raw public key. */
export function keyIdOf(raw: Uint8Array): string {
  return createHash('sha256').update(raw).digest('hex');
}

/** Ed25519 signature (base64) over the bytes. */
export function signBytes(privateKey: KeyObject, bytes: Uint8Array): string {
  return sign(null, bytes, privateKey).toString('base64');
}

/** False for any malformed key or signature, never a throw: a verifier reports, it does not crash. */
export function verifySignature(rawKey: Uint8Array, bytes: Uint8Array, signatureBase64: string): boolean {
  try {
    const signature = Buffer.from(signatureBase64, 'base64');
    if (signature.length !== 64 || signature.toString('base64') !== signatureBase64) return false;
    return verify(null, bytes, publicKeyFromRaw(rawKey), signature);
  } catch {
    return false;
  }
}

/** PEM (SPKI) of a raw key, for tools such as openssl. */
export function publicKeyPem(raw: Uint8Array): string {
  return publicKeyFromRaw(raw).export({ format: 'pem', type: 'spki' }).toString();
}
