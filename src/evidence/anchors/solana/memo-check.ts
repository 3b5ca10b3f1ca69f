import {
  getBase64Encoder,
  getCompiledTransactionMessageDecoder,
  getTransactionDecoder,
  type CompiledTransactionMessage,
} from '@solana/kit';
import { MEMO_PROGRAM_ADDRESS, treeHeadMemoText } from './memo-instruction.js';

/** A transaction as `getTransaction(signature, { encoding: 'base64' })` returns it. */
export interface FetchedMemoTransaction {
  slot: bigint;
  transaction: readonly [string, 'base64'];
  meta: { err: unknown } | null;
}

export interface MemoAnchorCheck {
  passed: boolean;
  reason: string;
}

export interface MemoAnchorCheckOptions {
  transaction: FetchedMemoTransaction;
  digest: Uint8Array;
  /** The address that must have signed the memo (the log's anchoring key), when known. */
  expectedSigner?: string;
}

/** Confirms that a fetched transaction succeeded and carries our tree head memo, signed by the expected key. */
export function checkMemoAnchor(options: MemoAnchorCheckOptions): MemoAnchorCheck {
  const expectedMemo = treeHeadMemoText(options.digest);
  const { transaction } = options;
  if (!transaction.meta) return { passed: false, reason: 'the transaction has no status metadata' };
  if (transaction.meta.err !== null) {
    return {
      passed: false,
      reason: `the transaction failed on chain: ${JSON.stringify(transaction.meta.err)}`,
    };
  }
  let message: CompiledTransactionMessage;
  try {
    const wire = getBase64Encoder().encode(transaction.transaction[0]);
    message = getCompiledTransactionMessageDecoder().decode(
      getTransactionDecoder().decode(wire).messageBytes,
    );
  } catch (error) {
    return { passed: false, reason: `the transaction does not decode: ${String(error)}` };
  }
  if (message.version === 1)
    return { passed: false, reason: 'version 1 transaction messages are not read yet' };
  const signerCount = message.header.numSignerAccounts;
  const memos = message.instructions
    .filter((instruction) => message.staticAccounts[instruction.programAddressIndex] === MEMO_PROGRAM_ADDRESS)
    .map((instruction) => ({
      text: new TextDecoder().decode(new Uint8Array(instruction.data ?? [])),
      signers: (instruction.accountIndices ?? [])
        .filter((index) => index < signerCount)
        .map((index) => message.staticAccounts[index]),
    }));
  const match = memos.find((memo) => memo.text === expectedMemo);
  if (!match) {
    return { passed: false, reason: `no memo "${expectedMemo}" among ${memos.length} memo instruction(s)` };
  }
  if (
    options.expectedSigner &&
    !match.signers.includes(options.expectedSigner as (typeof match.signers)[number])
  ) {
    return { passed: false, reason: `the memo is not signed by ${options.expectedSigner}` };
  }
  return {
    passed: true,
    reason: `memo with the digest is in a successful transaction at slot ${transaction.slot}`,
  };
}
