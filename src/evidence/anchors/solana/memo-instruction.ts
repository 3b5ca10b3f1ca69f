import {
  AccountRole,
  address,
  type AccountSignerMeta,
  type Instruction,
  type InstructionWithAccounts,
  type InstructionWithData,
  type TransactionSigner,
} from '@solana/kit';
import { assertSha256Digest, digestHex } from '../anchor-digest.js';

/** SPL Memo v2, deployed at this address on every public cluster. */
export const MEMO_PROGRAM_ADDRESS = address('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr');

const TREE_HEAD_MEMO_PREFIX = 'guardian-tree-head:';

export function treeHeadMemoText(digest: Uint8Array): string {
  assertSha256Digest(digest);
  return TREE_HEAD_MEMO_PREFIX + digestHex(digest);
}

export type MemoInstruction = Instruction &
  InstructionWithAccounts<[AccountSignerMeta]> &
  InstructionWithData<Uint8Array>;

/** A Memo instruction built by hand: the memo program checks that every listed account signed. */
export function createMemoInstruction(signer: TransactionSigner, text: string): MemoInstruction {
  const signerMeta: AccountSignerMeta = {
    address: signer.address,
    role: AccountRole.READONLY_SIGNER,
    signer,
  };
  return {
    programAddress: MEMO_PROGRAM_ADDRESS,
    accounts: [signerMeta],
    data: new TextEncoder().encode(text),
  };
}
