import type { Logger } from 'pino';
import {
  anchorAttemptFailed,
  solanaAnchored,
  timestampAnchored,
  type Anchor,
  type AnchorKind,
  type PendingAnchor,
} from '../evidence/anchors/anchor-status.js';
import type { Anchorer, AnchorReceipt } from '../evidence/anchors/anchorer.js';
import { DEFAULT_ANCHOR_RETRY_POLICY, type RetryPolicy } from '../evidence/anchors/retry-policy.js';
import { treeHeadDigest } from '../evidence/tree-head.js';
import type { Executor } from '../db/executor.js';
import type { JobQueue } from '../queue/job-queue.js';
import type { JobContext } from '../queue/job-table.js';
import type {
  AnchorListQuery,
  AnchorRecord,
  AnchorRepository,
  AnchorTransition,
} from '../repositories/anchor.repository.js';
import type { TreeHeadRecord } from '../repositories/transparency-log.repository.js';
import { toSignedTreeHead } from './transparency-log.service.js';

export interface AnchoredWebhooks {
  anchored(write: (executor: Executor) => Promise<AnchorRecord | null>): Promise<AnchorRecord | null>;
}

export const anchorJobNames = { rfc3161: 'anchor.rfc3161', solana: 'anchor.solana' } as const;

// A job attempts at most this many due anchors before handing the rest to a follow-up job.
const attemptsPerRun = 3;
// A claimed anchor is left alone this long; a worker that died mid-attempt leaves it due again after it.
const claimLeaseMs = { rfc3161: 4 * 60_000, solana: 9 * 60_000 } as const;

/**
 * Anchors of signed tree heads, one kind per configured anchorer. Each kind has one job: it plans (the latest
 * head gets a pending anchor when none of that kind is pending and the last one is ANCHOR_INTERVAL_SECONDS
 * old), attempts what is due, records the outcome as a status transition, and schedules itself again for the
 * next due time. A failure is recorded with its reason; anchored is only ever built from a real receipt.
 */
export function createAnchorService(deps: {
  anchors: AnchorRepository;
  anchorers: readonly Anchorer[];
  queue: Pick<JobQueue, 'enqueue'>;
  intervalSeconds: number;
  policy?: RetryPolicy;
  /** Configured URLs that may hold credentials: blanked out of every stored reason and log line. */
  secrets?: readonly string[];
  now?: () => Date;
  logger: Logger;
  /** Records an anchor's move to anchored together with its webhook events; absent, no webhooks. */
  webhooks?: AnchoredWebhooks;
}) {
  const now = deps.now ?? (() => new Date());
  const policy = deps.policy ?? DEFAULT_ANCHOR_RETRY_POLICY;
  const anchorers = new Map(deps.anchorers.map((anchorer) => [anchorer.kind, anchorer]));
  const log = deps.logger.child({ component: 'anchors' });
  const redact = secretRedactor(deps.secrets ?? []);

  async function enqueue(kind: AnchorKind, jobId: string, trigger: string, delayMs = 0): Promise<void> {
    await deps.queue.enqueue(anchorJobNames[kind], { trigger }, { jobId: `${kind}:${jobId}`, delayMs });
  }

  /** A pending anchor for the latest head when the policy allows one now; else when it will. */
  async function plan(kind: AnchorKind): Promise<{ wakeAt: Date | null }> {
    const { latestHead, pending, newest } = await deps.anchors.planFacts(kind);
    if (!latestHead || pending || (newest && Number(newest.tree_head_id) === Number(latestHead.id)))
      return { wakeAt: null };
    const allowedAt = newest ? new Date(newest.created_at.getTime() + deps.intervalSeconds * 1000) : null;
    const at = now();
    if (allowedAt && allowedAt > at) return { wakeAt: allowedAt };
    const created = await deps.anchors.insertPending({
      treeHead: latestHead,
      treeHeadSha256: treeHeadDigest(toSignedTreeHead(latestHead)),
      kind,
      now: at,
    });
    if (created) log.info({ kind, treeSize: Number(latestHead.tree_size) }, 'tree head anchor pending');
    return { wakeAt: null };
  }

  async function attempt(anchorer: Anchorer, record: AnchorRecord, signal: AbortSignal): Promise<void> {
    const pending: PendingAnchor = {
      kind: record.kind,
      status: 'pending',
      attempts: record.attempts,
      nextAttemptAt: record.next_attempt_at ?? now(),
      ...(record.reason ? { reason: record.reason } : {}),
    };
    let outcome: Anchor;
    let cluster: string | null = null;
    try {
      const receipt = await anchorer.anchor(Buffer.from(record.tree_head_sha256, 'hex'), signal);
      outcome = anchored(pending, receipt, now());
      if (receipt.kind === 'solana') cluster = receipt.cluster;
    } catch (error) {
      // Shutdown or timeout: not the anchor's failure; the claim lapses and another run tries again.
      if (signal.aborted) throw signal.reason;
      outcome = anchorAttemptFailed(pending, error, policy, now());
    }
    const change = transitionOf(outcome, { at: now(), cluster, redact });
    const write = (executor?: Executor) =>
      deps.anchors.transition(record.id, record.attempts, change, executor);
    const stored =
      deps.webhooks && outcome.status === 'anchored' ? await deps.webhooks.anchored(write) : await write();
    const context = {
      kind: record.kind,
      target: anchorer.target,
      treeSize: Number(record.tree_size),
      attempts: outcome.attempts,
      status: outcome.status,
    };
    if (!stored) log.warn(context, 'anchor outcome not stored: the anchor moved on meanwhile');
    else if (outcome.status === 'anchored') log.info(context, 'tree head anchored');
    else log.warn({ ...context, reason: redact(outcome.reason ?? '') }, 'tree head anchor attempt failed');
  }

  const service = {
    kinds: [...anchorers.keys()],

    /** After a tree head is committed: each kind's job looks at it (the timer catches a lost enqueue). */
    async treeHeadSigned(head: TreeHeadRecord): Promise<void> {
      for (const kind of anchorers.keys()) {
        await enqueue(kind, `head:${head.id}`, 'tree-head').catch((error: unknown) =>
          log.warn({ err: error, kind }, 'anchor job not enqueued; the next timer run catches up'),
        );
      }
    },

    /** The timer's backstop: each kind's job runs (plans, and attempts anything due whose job was lost). */
    async tick(): Promise<void> {
      for (const kind of anchorers.keys()) await enqueue(kind, 'tick', 'timer');
    },

    /** The job of one kind; throws only when the database fails (the queue then retries the job). */
    async run(kind: AnchorKind, context: Pick<JobContext, 'signal'>): Promise<void> {
      const anchorer = anchorers.get(kind);
      if (!anchorer) {
        log.warn({ kind }, 'anchor job for a kind this process has not configured: nothing done');
        return;
      }
      let { wakeAt } = await plan(kind);
      for (let done = 0; done < attemptsPerRun; done += 1) {
        const at = now();
        const claimed = await deps.anchors.claimDue(kind, at, new Date(at.getTime() + claimLeaseMs[kind]));
        if (!claimed) break;
        await attempt(anchorer, claimed, context.signal);
        ({ wakeAt } = await plan(kind));
      }
      const due = await deps.anchors.nextAttemptAt(kind);
      const next = [due, wakeAt].filter((date): date is Date => date !== null).sort((a, b) => +a - +b)[0];
      if (next) {
        const delayMs = Math.max(0, next.getTime() - now().getTime());
        await enqueue(kind, `at:${next.getTime()}`, 'scheduled', delayMs);
      }
    },

    list: (query: AnchorListQuery) => deps.anchors.list(query),
  };
  return service;
}

function anchored(pending: PendingAnchor, receipt: AnchorReceipt, at: Date): Anchor {
  if (receipt.kind !== pending.kind)
    throw new Error(`a ${receipt.kind} receipt for a ${pending.kind} anchor`);
  return receipt.kind === 'rfc3161'
    ? timestampAnchored(pending, receipt.timestamp, at)
    : solanaAnchored(pending, receipt.receipt, at);
}

/** The row update for a status transition; anchored data is written once, with the move to anchored. */
function transitionOf(
  outcome: Anchor,
  context: { at: Date; cluster: string | null; redact: (text: string) => string },
): AnchorTransition {
  const { at, redact } = context;
  const base = { attempts: outcome.attempts, updated_at: at };
  switch (outcome.status) {
    case 'pending':
      return {
        ...base,
        status: 'pending',
        next_attempt_at: outcome.nextAttemptAt,
        reason: outcome.reason ? redact(outcome.reason) : null,
      };
    case 'failed':
      return {
        ...base,
        status: 'failed',
        next_attempt_at: null,
        reason: redact(outcome.reason),
        failed_at: outcome.failedAt,
      };
    case 'anchored':
      return outcome.kind === 'rfc3161'
        ? {
            ...base,
            status: 'anchored',
            next_attempt_at: null,
            reason: null,
            anchored_at: outcome.anchoredAt,
            tsa_token: outcome.token,
            tsa_gen_time: outcome.genTime,
            tsa_serial_hex: outcome.serialNumberHex,
            tsa_name: outcome.tsaName,
          }
        : {
            ...base,
            status: 'anchored',
            next_attempt_at: null,
            reason: null,
            anchored_at: outcome.anchoredAt,
            solana_cluster: context.cluster ?? 'unknown',
            solana_signature: outcome.signature,
            solana_slot: outcome.slot,
            solana_memo: outcome.memo,
            solana_fee_payer: outcome.feePayer,
          };
  }
}

/** Replaces every configured secret URL (as written and as URL-normalised) with its origin. */
export function secretRedactor(secrets: readonly string[]): (text: string) => string {
  const replacements = secrets.flatMap((secret) => {
    let normalised = secret;
    let origin = '(redacted URL)';
    try {
      const url = new URL(secret);
      normalised = url.href;
      origin = `${url.origin}/…`;
    } catch {
      // Not a URL: blank it as written.
    }
    return [...new Set([secret, normalised])].map((value) => [value, origin] as const);
  });
  return (text) => replacements.reduce((result, [value, origin]) => result.split(value).join(origin), text);
}

export type AnchorService = ReturnType<typeof createAnchorService>;
