import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Config } from '../config/config.schema.js';
import {
  createSolanaAnchorer,
  createTimestampAnchorer,
  safeOrigin,
  type Anchorer,
} from '../evidence/anchors/anchorer.js';
import { createRpcSolanaTransport } from '../evidence/anchors/solana/rpc-solana-transport.js';

/** The anchor kinds this deployment configured (each optional); only origins are logged, never the URLs. */
export async function anchorersFromConfig(config: Config, log: Logger): Promise<Anchorer[]> {
  const anchorers: Anchorer[] = [];
  if (config.TSA_URL && config.TSA_TRUSTED_ROOTS_FILE) {
    anchorers.push(
      createTimestampAnchorer({
        tsaUrl: config.TSA_URL,
        trustedRoots: [await readFile(config.TSA_TRUSTED_ROOTS_FILE, 'utf8')],
      }),
    );
  }
  if (config.SOLANA_RPC_URL && config.SOLANA_KEYPAIR_FILE && config.SOLANA_CLUSTER) {
    anchorers.push(
      createSolanaAnchorer({
        transport: createRpcSolanaTransport({ rpcUrl: config.SOLANA_RPC_URL }),
        keypairFile: config.SOLANA_KEYPAIR_FILE,
        cluster: config.SOLANA_CLUSTER,
        rpcUrl: config.SOLANA_RPC_URL,
      }),
    );
  }
  log.info(
    {
      anchors: anchorers.map((anchorer) => `${anchorer.kind} (${anchorer.target})`),
      intervalSeconds: config.ANCHOR_INTERVAL_SECONDS,
    },
    anchorers.length > 0 ? 'tree head anchors configured' : 'no tree head anchors configured',
  );
  return anchorers;
}

/** URLs whose path or query may hold a credential: kept out of stored reasons and logs. */
export function anchorSecrets(config: Config): string[] {
  return [config.TSA_URL, config.SOLANA_RPC_URL].filter(
    (value): value is string => value !== undefined && value !== safeOrigin(value),
  );
}
