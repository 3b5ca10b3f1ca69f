import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  getBase64Encoder,
  getSignatureFromTransaction,
  getTransactionDecoder,
  type Transaction,
} from '@solana/kit';
import { FailedTransactionMetadata, type LiteSVM } from 'litesvm';

// litesvm reports these TransactionError variants as numbers (its TransactionErrorFieldless enum).
const FIELDLESS_ERROR_NAMES: Record<number, string> = { 2: 'AccountNotFound', 4: 'InsufficientFundsForFee' };

export interface LiteSvmJsonRpc {
  url: string;
  /** Status polls that answer "not seen yet" before the landed transaction is reported. */
  setUnseenPolls(count: number): void;
  /** Pretends the chain moved this many blocks past every blockhash handed out. */
  setBlockHeightAhead(blocks: number): void;
  close(): Promise<void>;
}

/** The few Solana JSON-RPC methods a memo anchor uses, answered by an in-process VM, on loopback HTTP. */
export async function startLiteSvmJsonRpc(svm: LiteSVM): Promise<LiteSvmJsonRpc> {
  const landed = new Map<string, { slot: bigint; wire: string }>();
  let unseenPolls = 0;
  let blockHeightAhead = 0;
  const height = () => Number(svm.getClock().slot);

  const methods: Record<string, (params: unknown[]) => unknown> = {
    getLatestBlockhash: () => ({
      context: { slot: height() },
      value: { blockhash: svm.latestBlockhash(), lastValidBlockHeight: height() + 150 },
    }),
    getBlockHeight: () => height() + 150 + blockHeightAhead,
    sendTransaction: (params) => {
      const wire = String(params[0]);
      const transaction = getTransactionDecoder().decode(getBase64Encoder().encode(wire)) as Transaction;
      const result = svm.sendTransaction(transaction);
      if (result instanceof FailedTransactionMetadata) {
        const error = result.err();
        const name =
          typeof error === 'number' ? (FIELDLESS_ERROR_NAMES[error] ?? 'GenericError') : 'GenericError';
        throw Object.assign(new Error('Transaction simulation failed'), {
          rpc: {
            code: -32002,
            message: `Transaction simulation failed: ${name}`,
            data: { err: name, logs: [] },
          },
        });
      }
      const signature = getSignatureFromTransaction(transaction);
      landed.set(signature, {
        slot: svm.getClock().slot,
        wire,
      });
      return signature;
    },
    getSignatureStatuses: (params) => {
      const signatures = params[0] as string[];
      const visible = unseenPolls-- <= 0;
      return {
        context: { slot: height() },
        value: signatures.map((signature) => {
          const entry = landed.get(signature);
          return entry && visible
            ? {
                slot: Number(entry.slot),
                confirmations: 0,
                err: null,
                status: { Ok: null },
                confirmationStatus: 'confirmed',
              }
            : null;
        }),
      };
    },
    getTransaction: (params) => {
      const entry = landed.get(String(params[0]));
      return entry
        ? { slot: Number(entry.slot), transaction: [entry.wire, 'base64'], meta: { err: null, fee: 5000 } }
        : null;
    },
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const call = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        id: unknown;
        method: string;
        params?: unknown[];
      };
      const method = methods[call.method];
      let reply: object;
      try {
        if (!method)
          throw Object.assign(new Error('no method'), { rpc: { code: -32601, message: 'Method not found' } });
        reply = { jsonrpc: '2.0', id: call.id, result: method(call.params ?? []) };
      } catch (error) {
        reply = {
          jsonrpc: '2.0',
          id: call.id,
          error: (error as { rpc?: object }).rpc ?? { code: -32603, message: String(error) },
        };
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setUnseenPolls: (count) => {
      unseenPolls = count;
    },
    setBlockHeightAhead: (blocks) => {
      blockHeightAhead = blocks;
    },
    close: () => closeServer(server),
  };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
