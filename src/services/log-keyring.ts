import type { LogSigningKey } from '../evidence/log-signing-key.js';
import type { TransparencyLogRepository } from '../repositories/transparency-log.repository.js';
import type { AuditLog } from './audit-log.js';
import { AppError } from './errors.js';

/** The signing key in use, registered in the log's key list; rotation swaps it in place for this process. */
export interface LogKeyring {
  current(): LogSigningKey;
  /** Registers the current key and retires the others (at start-up). */
  activate(): Promise<void>;
  rotate(): Promise<{ previousKeyId: string; keyId: string }>;
}

export function createLogKeyring(deps: {
  initial: LogSigningKey;
  log: TransparencyLogRepository;
  audit: AuditLog;
  /** Makes and stores a new generated key (DATA_DIR); the old private key is destroyed. */
  generate(): Promise<LogSigningKey>;
}): LogKeyring {
  let current = deps.initial;
  const register = (key: LogSigningKey) =>
    deps.log.activateKey({ keyId: key.keyId, publicKey: key.publicKey.toString('base64') });
  return {
    current: () => current,
    activate: () => register(current),
    async rotate() {
      if (current.source === 'configured')
        throw new AppError(
          409,
          'log-key-configured',
          'Log key is configured',
          'the log key comes from LOG_SIGNING_KEY: set a new key there and restart (the old public key stays listed)',
        );
      const previous = current;
      const next = await deps.generate();
      await register(next);
      current = next;
      await deps.audit.append({
        orgId: null,
        actor: { type: 'cli', id: null },
        action: 'log.rotate-key',
        outcome: 'success',
        target: { type: 'log-key', id: next.keyId },
        details: { previous: previous.keyId },
      });
      return { previousKeyId: previous.keyId, keyId: next.keyId };
    },
  };
}
