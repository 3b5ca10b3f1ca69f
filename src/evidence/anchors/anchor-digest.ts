const SHA256_LENGTH = 32;

/** Refuses anything but a 32-byte SHA-256 digest, so an anchor never covers a truncated or wrong hash. */
export function assertSha256Digest(digest: Uint8Array): void {
  if (!(digest instanceof Uint8Array) || digest.length !== SHA256_LENGTH) {
    throw new TypeError(`an anchor digest must be 32 bytes of SHA-256, got ${describeLength(digest)}`);
  }
}

export function digestHex(digest: Uint8Array): string {
  return Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString('hex');
}

/** A fresh ArrayBuffer holding exactly these bytes (a Buffer's `.buffer` can be a larger shared pool). */
export function copyBytes(bytes: Uint8Array): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}

function describeLength(value: unknown): string {
  return value instanceof Uint8Array ? `${value.length} bytes` : typeof value;
}
