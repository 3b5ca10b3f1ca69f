import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lamports } from '@solana/kit';
import { LiteSVM } from 'litesvm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anchorOnSolana } from '../../../src/evidence/anchors/solana/anchor-on-solana.js';
import { loadKeypairSignerFromFile } from '../../../src/evidence/anchors/solana/keypair-file.js';
import { checkMemoAnchor } from '../../../src/evidence/anchors/solana/memo-check.js';
import { SolanaAnchorError } from '../../../src/evidence/anchors/solana/solana-anchor-errors.js';
import { createLiteSvmTransport, solanaKeypairFileText } from '../../helpers/litesvm-solana-transport.js';

const digestOf = (text: string) => new Uint8Array(createHash('sha256').update(text).digest());

describe('Solana memo anchor in an in-process VM (litesvm)', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'guardian-solana-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function keypairFile(name: string, text = solanaKeypairFileText()): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  it('lands a memo with the tree head digest and reads it back', async () => {
    const svm = new LiteSVM();
    const transport = createLiteSvmTransport(svm);
    const signer = await loadKeypairSignerFromFile(await keypairFile('funded.json'));
    svm.airdrop(signer.address, lamports(1_000_000_000n));
    const digest = digestOf('tree head 7');

    const receipt = await anchorOnSolana({ transport, signer, digest });

    expect(receipt.memo).toBe(`guardian-tree-head:${Buffer.from(digest).toString('hex')}`);
    expect(receipt.slot).toBe(svm.getClock().slot);
    const executed = svm.getTransaction(receipt.signature as Parameters<LiteSVM['getTransaction']>[0]);
    expect(executed?.toString()).toContain(`Program log: ${receipt.memo}`);
    expect(svm.getBalance(signer.address)).toBeLessThan(1_000_000_000n);

    const fetched = transport.fetchTransaction(receipt.signature);
    expect(fetched).not.toBeNull();
    const check = checkMemoAnchor({ transaction: fetched!, digest, expectedSigner: signer.address });
    expect(check).toEqual({ passed: true, reason: expect.stringContaining(`slot ${receipt.slot}`) });

    expect(checkMemoAnchor({ transaction: fetched!, digest: digestOf('tree head 8') }).passed).toBe(false);
    const otherSigner = await loadKeypairSignerFromFile(await keypairFile('other.json'));
    const wrongSigner = checkMemoAnchor({
      transaction: fetched!,
      digest,
      expectedSigner: otherSigner.address,
    });
    expect(wrongSigner).toEqual({
      passed: false,
      reason: `the memo is not signed by ${otherSigner.address}`,
    });
    const failedOnChain = checkMemoAnchor({
      transaction: { ...fetched!, meta: { err: 'AccountInUse' } },
      digest,
    });
    expect(failedOnChain.passed).toBe(false);
  });

  it.each([
    ['has never been funded', 0n],
    ['cannot pay the fee', 1_000n],
  ])('refuses with insufficient-funds when the fee payer %s', async (_case, balance) => {
    const svm = new LiteSVM();
    const signer = await loadKeypairSignerFromFile(await keypairFile(`poor-${balance}.json`));
    if (balance > 0n) svm.airdrop(signer.address, lamports(balance));
    const error = await anchorOnSolana({
      transport: createLiteSvmTransport(svm),
      signer,
      digest: digestOf('tree head 9'),
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SolanaAnchorError);
    expect((error as SolanaAnchorError).reason).toBe('insufficient-funds');
    expect((error as SolanaAnchorError).message).toContain(signer.address);
  });

  it('names a missing keypair file', async () => {
    const missing = join(dir, 'absent.json');
    const error = await loadKeypairSignerFromFile(missing).catch((caught: unknown) => caught);
    expect((error as SolanaAnchorError).reason).toBe('keypair-missing');
    expect((error as SolanaAnchorError).message).toContain('ENOENT');
  });

  it.each([
    ['not JSON', 'secret'],
    ['too short', JSON.stringify(Array(32).fill(1))],
    ['a public half that does not match', JSON.stringify([...Array(32).fill(7), ...Array(32).fill(9)])],
  ])('refuses a keypair file that is %s', async (_case, text) => {
    const error = await loadKeypairSignerFromFile(await keypairFile('bad.json', text)).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(SolanaAnchorError);
    expect((error as SolanaAnchorError).reason).toBe('keypair-invalid');
  });
});
