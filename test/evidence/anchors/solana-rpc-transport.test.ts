import { createHash } from 'node:crypto';
import { generateKeyPairSigner, lamports } from '@solana/kit';
import { LiteSVM } from 'litesvm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anchorOnSolana } from '../../../src/evidence/anchors/solana/anchor-on-solana.js';
import { checkMemoAnchor } from '../../../src/evidence/anchors/solana/memo-check.js';
import { createRpcSolanaTransport } from '../../../src/evidence/anchors/solana/rpc-solana-transport.js';
import type { SolanaAnchorError } from '../../../src/evidence/anchors/solana/solana-anchor-errors.js';
import { startLiteSvmJsonRpc, type LiteSvmJsonRpc } from '../../helpers/litesvm-json-rpc.js';

const digest = new Uint8Array(createHash('sha256').update('tree head 11').digest());
const noWait = () => Promise.resolve();

describe('Solana JSON-RPC transport (HTTP, against a loopback RPC answered by litesvm)', () => {
  let svm: LiteSVM;
  let rpc: LiteSvmJsonRpc;

  beforeAll(async () => {
    svm = new LiteSVM();
    rpc = await startLiteSvmJsonRpc(svm);
  });

  afterAll(async () => {
    await rpc.close();
  });

  it('sends, polls until confirmed, and fetches a transaction whose memo checks', async () => {
    const signer = await generateKeyPairSigner();
    svm.airdrop(signer.address, lamports(1_000_000_000n));
    const transport = createRpcSolanaTransport({ rpcUrl: rpc.url, sleep: noWait });
    rpc.setUnseenPolls(2);

    const receipt = await anchorOnSolana({ transport, signer, digest });

    expect(receipt.slot).toBe(svm.getClock().slot);
    const fetched = await transport.fetchTransaction(receipt.signature);
    expect(fetched).not.toBeNull();
    expect(checkMemoAnchor({ transaction: fetched!, digest, expectedSigner: signer.address }).passed).toBe(
      true,
    );
  });

  it('maps a preflight refusal for an unfunded payer to insufficient-funds', async () => {
    const signer = await generateKeyPairSigner();
    const transport = createRpcSolanaTransport({ rpcUrl: rpc.url, sleep: noWait });
    const error = (await anchorOnSolana({ transport, signer, digest }).catch(
      (caught: unknown) => caught,
    )) as SolanaAnchorError;
    expect(error.reason).toBe('insufficient-funds');
    expect(error.message).toContain('AccountNotFound');
  });

  it('gives up with expired once the blockhash can no longer land', async () => {
    const signer = await generateKeyPairSigner();
    svm.airdrop(signer.address, lamports(1_000_000_000n));
    const transport = createRpcSolanaTransport({ rpcUrl: rpc.url, sleep: noWait });
    rpc.setUnseenPolls(1_000);
    rpc.setBlockHeightAhead(1);
    try {
      const error = (await anchorOnSolana({
        transport,
        signer,
        digest: digest.map((byte) => byte ^ 1),
      }).catch((caught: unknown) => caught)) as SolanaAnchorError;
      expect(error.reason).toBe('expired');
    } finally {
      rpc.setUnseenPolls(0);
      rpc.setBlockHeightAhead(0);
    }
  });

  it('reports an unreachable RPC endpoint as rpc', async () => {
    const transport = createRpcSolanaTransport({ rpcUrl: 'http://127.0.0.1:1', sleep: noWait });
    const signer = await generateKeyPairSigner();
    const error = (await anchorOnSolana({ transport, signer, digest }).catch(
      (caught: unknown) => caught,
    )) as SolanaAnchorError;
    expect(error.reason).toBe('rpc');
  });
});
