import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { KeyRotation } from '../db/schema.js';
import { RotationBusy, type KeyRotationRepository } from '../repositories/key-rotation.repository.js';
import { findKek, type KekRef, type Keyring, type LiveKeyring } from '../storage/master-key.js';
import { BlobIntegrityError } from '../storage/segmented-aead.js';
import type { MasterKeyedObjects } from '../storage/master-keyed-objects.js';
import type { AuditLog } from './audit-log.js';
import { AppError } from './errors.js';
import { retireInstructions, rotationNextSteps } from './key-rotation-instructions.js';

/** The generated DATA_DIR/master.key (embedded, MASTER_KEY unset): the platform can make its next key itself. */
export interface GeneratedKeyFiles {
  promote(): Promise<Keyring>;
  forgetPrevious(): Promise<void>;
}

export interface KeyRotationDeps {
  keyring: LiveKeyring;
  /** Everything sealed under the master key; rotation and retirement cover exactly these. */
  collections: readonly MasterKeyedObjects[];
  rotations: KeyRotationRepository;
  audit: AuditLog;
  /** Null when MASTER_KEY is configured (keys come from the environment, not from DATA_DIR). */
  generatedKeyFiles: GeneratedKeyFiles | null;
  now: () => Date;
  log: Logger;
  /** Progress is written every this many objects (and at every collection's end). */
  checkpointEvery?: number;
}

export interface WrappedCount {
  kekId: string;
  version: number;
  role: 'current' | 'previous' | 'unknown';
  retired: boolean;
  objects: Record<string, number>;
  total: number;
}

const leaseMs = 10 * 60_000;
const systemActor = { type: 'system', id: null } as const;

export function createKeyRotationService(deps: KeyRotationDeps) {
  const { keyring, collections, rotations, audit, now, log } = deps;
  const checkpointEvery = deps.checkpointEvery ?? 50;
  const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const sameKek = (a: KekRef, b: KekRef) => a.id === b.id && a.version === b.version;
  const roleOf = (kek: KekRef): WrappedCount['role'] =>
    sameKek(kek, keyring.current)
      ? 'current'
      : findKek(keyring, kek.id, kek.version)
        ? 'previous'
        : 'unknown';

  /** Reads every header once: which KEK wraps how many objects of each kind. */
  async function scan() {
    const retired = await rotations.listRetired();
    const counts = new Map<string, WrappedCount>();
    let unreadable = 0;
    for (const collection of collections) {
      for await (const key of collection.keys()) {
        const kek = await collection.kekOf(key).catch(() => 'unreadable' as const);
        if (kek === 'unreadable') unreadable += 1;
        if (kek === null || kek === 'unreadable') continue;
        const id = `${kek.id} v${kek.version}`;
        const entry = counts.get(id) ?? {
          kekId: kek.id,
          version: kek.version,
          role: roleOf(kek),
          retired: retired.some((done) => sameKek(done, kek)),
          objects: {},
          total: 0,
        };
        entry.objects[collection.name] = (entry.objects[collection.name] ?? 0) + 1;
        entry.total += 1;
        counts.set(id, entry);
      }
    }
    return { wrapped: [...counts.values()], unreadable, retired };
  }

  async function rotate(options: { generate?: boolean } = {}) {
    let generated = false;
    if (options.generate) {
      if (!deps.generatedKeyFiles)
        throw new AppError(
          409,
          'master-key-configured',
          'Master key is configured',
          '--generate replaces the generated DATA_DIR/master.key of an embedded deployment (MASTER_KEY and DATABASE_URL unset); here put the new key in MASTER_KEY and the old one in MASTER_KEY_PREVIOUS on every process, restart them, then run `guardian keys rotate` without --generate',
        );
      if ((await rotations.latest())?.status === 'running')
        throw new AppError(
          409,
          'rotation-unfinished',
          'Rotation unfinished',
          'a rotation has not finished: run `guardian keys rotate` (without --generate) to complete it first',
        );
      keyring.replace(await deps.generatedKeyFiles.promote());
      generated = true;
    }
    const to = keyring.current;
    const claimed = await rotations
      .claim({
        to,
        fromKekIds: keyring.previous.map((kek) => kek.id),
        owner,
        leaseUntil: new Date(now().getTime() + leaseMs),
        now: now(),
        ownerGone: (holder) => ownerGone(holder, owner),
      })
      .catch((error: unknown) => {
        if (!(error instanceof RotationBusy)) throw error;
        throw new AppError(
          409,
          'rotation-running',
          'Rotation running',
          `a key rotation is running in ${error.rotation.owner ?? 'another process'} (lease until ${error.rotation.lease_until?.toISOString() ?? '?'}); wait for it, or rerun after that time if that process is gone`,
        );
      });
    const { rotation, resumed } = claimed;
    await audit.append({
      orgId: null,
      actor: systemActor,
      action: resumed ? 'keys.rotate.resume' : 'keys.rotate.start',
      outcome: 'success',
      target: { type: 'key-rotation', id: rotation.id },
      details: { toKek: to.id, fromKeks: rotation.from_kek_ids, generated },
    });
    const progress = {
      phase: rotation.phase ?? collections[0]?.name ?? 'none',
      objectsDone: rotation.objects_done,
      objectsSkipped: 0,
      lastKey: rotation.last_key,
    };
    const perCollection: Record<string, { rewrapped: number; alreadyCurrent: number; vanished: number }> = {};
    let sinceCheckpoint = 0;
    let currentKey = '-';
    const checkpoint = async () => {
      sinceCheckpoint = 0;
      const held = await rotations.checkpoint(rotation.id, owner, {
        ...progress,
        leaseUntil: new Date(now().getTime() + leaseMs),
        now: now(),
      });
      if (!held)
        throw new AppError(
          409,
          'rotation-taken-over',
          'Rotation taken over',
          'another process took the rotation over',
        );
    };
    try {
      for (const collection of collections) {
        const tally = (perCollection[collection.name] = { rewrapped: 0, alreadyCurrent: 0, vanished: 0 });
        progress.phase = collection.name;
        for await (const key of collection.keys()) {
          currentKey = `${collection.name}/${key}`;
          const kek = await collection.kekOf(key);
          if (kek === null) tally.vanished += 1;
          else if (sameKek(kek, to)) {
            tally.alreadyCurrent += 1;
            progress.objectsSkipped += 1;
          } else {
            if (!findKek(keyring, kek.id, kek.version)) throw unknownKek(collection.name, key, kek);
            if (await collection.rewrap(key)) {
              tally.rewrapped += 1;
              progress.objectsDone += 1;
              progress.lastKey = `${collection.name}/${key}`;
            } else tally.vanished += 1;
          }
          sinceCheckpoint += 1;
          if (sinceCheckpoint >= checkpointEvery) await checkpoint();
        }
        await checkpoint();
      }
    } catch (error) {
      // Integrity messages name no secret; anything else may carry paths or driver text, kept to the log.
      const message =
        error instanceof AppError
          ? (error.detail ?? error.title)
          : `${currentKey}: ${error instanceof BlobIntegrityError ? error.message : 'failed; see the server log'}`;
      log.error({ err: error, rotationId: rotation.id, object: currentKey }, 'key rotation stopped');
      await rotations.release(rotation.id, owner, { ...progress, lastError: message, now: now() });
      await audit.append({
        orgId: null,
        actor: systemActor,
        action: 'keys.rotate.finish',
        outcome: 'failure',
        target: { type: 'key-rotation', id: rotation.id },
        details: { toKek: to.id, objectsDone: progress.objectsDone, phase: progress.phase, error: message },
      });
      throw error;
    }
    await rotations.finish(rotation.id, owner, { ...progress, now: now() });
    await audit.append({
      orgId: null,
      actor: systemActor,
      action: 'keys.rotate.finish',
      outcome: 'success',
      target: { type: 'key-rotation', id: rotation.id },
      details: { toKek: to.id, objectsDone: progress.objectsDone, alreadyCurrent: progress.objectsSkipped },
    });
    log.info({ rotationId: rotation.id, objectsDone: progress.objectsDone }, 'key rotation finished');
    return {
      rotationId: rotation.id,
      resumed,
      generated,
      currentKek: to.id,
      previousKeks: keyring.previous.map((kek) => kek.id),
      objectsDone: progress.objectsDone,
      alreadyCurrent: progress.objectsSkipped,
      collections: perCollection,
      nextSteps: rotationNextSteps({ generated: deps.generatedKeyFiles !== null }),
    };
  }

  async function status() {
    const { wrapped, unreadable, retired } = await scan();
    const latest = await rotations.latest();
    const stale = wrapped.filter((entry) => entry.role !== 'current');
    return {
      current: { kekId: keyring.current.id, version: keyring.current.version },
      previous: keyring.previous.map((kek) => ({
        kekId: kek.id,
        version: kek.version,
        retired: retired.some((done) => sameKek(done, kek)),
      })),
      wrapped,
      unreadable,
      rotation: latest ? describeRotation(latest, now()) : null,
      retired: retired.map((kek) => ({
        kekId: kek.id,
        version: kek.version,
        retiredAt: kek.retiredAt.toISOString(),
      })),
      readyToRetire: stale.length === 0 && keyring.previous.length > 0,
    };
  }

  async function retire() {
    const { wrapped, unreadable } = await scan();
    const stale = wrapped.filter((entry) => entry.role !== 'current');
    if (stale.length > 0)
      throw new AppError(
        409,
        'keys-still-in-use',
        'Keys still in use',
        `${stale.map((entry) => `${entry.total} object(s) under ${entry.kekId}`).join(', ')}: run \`guardian keys rotate\` first`,
      );
    const retiring = [...keyring.previous];
    const latest = await rotations.latest();
    if (latest?.status === 'running')
      throw new AppError(
        409,
        'rotation-unfinished',
        'Rotation unfinished',
        'run `guardian keys rotate` to finish it first',
      );
    await rotations.retire(retiring, latest?.id ?? null, now());
    if (deps.generatedKeyFiles) await deps.generatedKeyFiles.forgetPrevious();
    keyring.replace({ current: keyring.current, previous: [] });
    await audit.append({
      orgId: null,
      actor: systemActor,
      action: 'keys.retire',
      outcome: 'success',
      target: { type: 'master-key', id: keyring.current.id },
      details: { retired: retiring.map((kek) => kek.id).join(','), unreadable },
    });
    return {
      retired: retiring.map((kek) => kek.id),
      currentKek: keyring.current.id,
      unreadable,
      instructions: retireInstructions({
        generated: deps.generatedKeyFiles !== null,
        retired: retiring.map((kek) => kek.id),
        rotationStartedAt: latest?.started_at.toISOString() ?? null,
      }),
    };
  }

  return { rotate, status, retire };
}

export type KeyRotationService = ReturnType<typeof createKeyRotationService>;

/**
 * At start-up: a retired key as MASTER_KEY is refused (new data would go under a key meant to be destroyed);
 * one still in MASTER_KEY_PREVIOUS is a warning telling the operator to remove it.
 */
export async function checkRetiredKeys(deps: {
  keyring: Keyring;
  rotations: KeyRotationRepository;
  log: Logger;
}): Promise<void> {
  const retired = await deps.rotations.listRetired();
  const isRetired = (kek: KekRef) =>
    retired.find((done) => done.id === kek.id && done.version === kek.version);
  const current = isRetired(deps.keyring.current);
  if (current)
    throw new Error(
      `MASTER_KEY is the retired master key ${current.id} (retired ${current.retiredAt.toISOString()}): configure the current key`,
    );
  for (const kek of deps.keyring.previous) {
    const found = isRetired(kek);
    if (found)
      deps.log.warn(
        { kekId: kek.id, retiredAt: found.retiredAt.toISOString() },
        'a retired master key is still configured: remove it from MASTER_KEY_PREVIOUS (or MASTER_KEY_PREVIOUS_FILE) and restart, then destroy it',
      );
  }
}

function describeRotation(rotation: KeyRotation, at: Date) {
  return {
    id: rotation.id,
    toKekId: rotation.to_kek_id,
    fromKekIds: rotation.from_kek_ids === '' ? [] : rotation.from_kek_ids.split(','),
    status: rotation.status,
    /** A running row whose lease lapsed was interrupted (crash or kill): rerunning resumes it. */
    active: rotation.status === 'running' && rotation.lease_until !== null && rotation.lease_until > at,
    phase: rotation.phase,
    objectsDone: rotation.objects_done,
    objectsSkipped: rotation.objects_skipped,
    lastKey: rotation.last_key,
    lastError: rotation.last_error,
    startedAt: rotation.started_at.toISOString(),
    updatedAt: rotation.updated_at.toISOString(),
    finishedAt: rotation.finished_at?.toISOString() ?? null,
  };
}

function unknownKek(collection: string, key: string, kek: KekRef): AppError {
  return new AppError(
    409,
    'unknown-master-key',
    'Unknown master key',
    `${collection} object ${key} is wrapped by ${kek.id} v${kek.version}, which is not configured: add that key to MASTER_KEY_PREVIOUS and run \`guardian keys rotate\` again`,
  );
}

/** A lease held by a process on this host that no longer exists can be taken over at once. */
function ownerGone(holder: string, self: string): boolean {
  const [host, pidText] = holder.split(':');
  const [selfHost] = self.split(':');
  const pid = Number(pidText);
  if (host !== selfHost || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
