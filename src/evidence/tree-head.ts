import { canonicalJson, canonicalSha256 } from './canonical-json.js';
import { signBytes, verifySignature } from './ed25519.js';
import type { KeyObject } from 'node:crypto';

export const treeHeadFormat = 'guardian-tree-head-v1';

/** A checkpoint of the log: signed over the RFC 8785 form of every field but `signature`. */
export interface TreeHeadBody {
  format: typeof treeHeadFormat;
  treeSize: number;
  /** Lowercase hex RFC 9162 root of the first `treeSize` leaves. */
  rootHash: string;
  /** Database clock when it was signed, ISO 8601 UTC. */
  timestamp: string;
  /** The audit log's last entry at that moment, so the audit hash chain is anchored with the log. */
  auditHead: { seq: number; hash: string } | null;
  keyId: string;
}

export interface SignedTreeHead extends TreeHeadBody {
  /** Ed25519, base64. */
  signature: string;
}

export function treeHeadBytes(body: TreeHeadBody): Buffer {
  return Buffer.from(canonicalJson(body), 'utf8');
}

export function signTreeHead(body: TreeHeadBody, privateKey: KeyObject): SignedTreeHead {
  return { ...body, signature: signBytes(privateKey, treeHeadBytes(body)) };
}

export function treeHeadBody(head: SignedTreeHead): TreeHeadBody {
  const { format, treeSize, rootHash, timestamp, auditHead, keyId } = head;
  return { format, treeSize, rootHash, timestamp, auditHead, keyId };
}

export function verifyTreeHeadSignature(head: SignedTreeHead, rawKey: Uint8Array): boolean {
  return verifySignature(rawKey, treeHeadBytes(treeHeadBody(head)), head.signature);
}

/** What an anchor (RFC 3161 timestamp, Solana memo) commits to: SHA-256 of the signed head's RFC 8785 form. */
export function treeHeadDigest(head: SignedTreeHead): string {
  return canonicalSha256(head);
}
