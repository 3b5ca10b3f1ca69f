import { isAbsolute } from 'node:path';
import { z } from 'zod';
import type { BackupSummary } from '../backup/backup-create.js';
import type { OutboxRepository } from '../repositories/outbox.repository.js';
import type { TransparencyLogRepository } from '../repositories/transparency-log.repository.js';
import { checkTransparencyLog } from '../services/log-monitor.js';
import type { ApiKeyService } from '../services/api-key.service.js';
import type { KeyRotationService } from '../services/key-rotation.service.js';
import type { AuditLogService } from '../services/audit-log.service.js';
import type { OrganisationService } from '../services/organisation.service.js';
import type { UserService } from '../services/user.service.js';
import { badRequest, notFound } from '../services/errors.js';
import type { FeatureFlagService } from '../services/feature-flag.service.js';
import { flagCommands } from './flag-commands.js';

const orgCreateArgs = z.strictObject({ name: z.string() });
const outboxListArgs = z.strictObject({
  orgName: z.string().optional(),
  limit: z.number().int().min(1).max(500).default(20),
});
const backupCreateArgs = z.strictObject({
  to: z.string().refine((path) => isAbsolute(path), 'must be an absolute path'),
});
const logCheckArgs = z.strictObject({ fromSize: z.number().int().min(0).default(0) });
const userCreateArgs = z.strictObject({
  orgName: z.string(),
  email: z.string().max(320),
  role: z.enum(['admin', 'analyst', 'viewer', 'auditor']),
  password: z.string().max(1024),
});
const keysRotateArgs = z.strictObject({ generate: z.boolean().default(false) });
const apiKeyCreateArgs = z.strictObject({
  orgName: z.string(),
  name: z.string(),
  role: z.enum(['admin', 'analyst', 'viewer', 'auditor']),
  expiresInDays: z.number().int().positive().max(3650).optional(),
});

function parse<T>(schema: z.ZodType<T>, args: unknown): T {
  const parsed = schema.safeParse(args);
  if (!parsed.success)
    throw badRequest(
      'invalid-arguments',
      parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
    );
  return parsed.data;
}

/** What `guardian` management verbs do, whether run in-process or through a running server's admin socket. */
export function createManagementCommands(deps: {
  organisations: OrganisationService;
  apiKeys: ApiKeyService;
  users: UserService;
  auditLog: AuditLogService;
  flags: FeatureFlagService;
  outbox: OutboxRepository;
  transparencyLog: TransparencyLogRepository;
  rotateLogKey(): Promise<{ previousKeyId: string; keyId: string }>;
  /** Only in the running server: a backup taken by the process that holds the embedded database. */
  backup?(to: string): Promise<BackupSummary>;
  /** Retention and housekeeping passes (the server wires them; `guardian retention run` opens its own). */
  lifecycle?: { retention(): Promise<unknown>; housekeeping(): Promise<unknown> };
  /** Master key rotation; opened on first use (management verbs that do not need the key never load it). */
  keys(): Promise<KeyRotationService>;
}) {
  const lifecycle = () => {
    if (!deps.lifecycle) throw new Error('retention and housekeeping are not wired here');
    return deps.lifecycle;
  };
  return {
    'org.create': async (args: unknown) => {
      const org = await deps.organisations.create(parse(orgCreateArgs, args).name);
      return { id: org.id, name: org.name };
    },
    'user.create': async (args: unknown) => {
      const user = await deps.users.createInOrganisation(parse(userCreateArgs, args));
      return { id: user.id, email: user.email, role: user.role, orgId: user.org_id };
    },
    'org.list': async () => (await deps.organisations.list()).map((org) => ({ id: org.id, name: org.name })),
    'apikey.create': async (args: unknown) => {
      const created = await deps.apiKeys.create(parse(apiKeyCreateArgs, args));
      await deps.auditLog.append({
        orgId: created.orgId,
        actor: { type: 'cli', id: null },
        action: 'apikey.create',
        outcome: 'success',
        target: { type: 'api-key', id: created.id },
        details: {
          name: created.name,
          role: created.role,
          expiresAt: created.expiresAt?.toISOString() ?? null,
        },
      });
      return { ...created, expiresAt: created.expiresAt?.toISOString() ?? null };
    },
    ...flagCommands({ flags: deps.flags, organisations: deps.organisations, parse }),
    'audit.verify': async () => deps.auditLog.verify(),
    'log.check': async (args: unknown) =>
      checkTransparencyLog({ log: deps.transparencyLog }, parse(logCheckArgs, args)),
    'log.rotateKey': async () => deps.rotateLogKey(),
    'backup.create': async (args: unknown) => {
      if (!deps.backup) throw badRequest('unsupported-command', 'backups are taken by the CLI here');
      return deps.backup(parse(backupCreateArgs, args).to);
    },
    'retention.run': async () => lifecycle().retention(),
    'housekeeping.run': async () => lifecycle().housekeeping(),
    'keys.rotate': async (args: unknown) => (await deps.keys()).rotate(parse(keysRotateArgs, args)),
    'keys.status': async () => (await deps.keys()).status(),
    'keys.retire': async () => (await deps.keys()).retire(),
    'outbox.list': async (args: unknown) => {
      const { orgName, limit } = parse(outboxListArgs, args);
      const orgs = await deps.organisations.list();
      const org = orgName === undefined ? undefined : orgs.find((candidate) => candidate.name === orgName);
      if (orgName !== undefined && !org) throw notFound(`organisation "${orgName}"`);
      const names = new Map(orgs.map((candidate) => [candidate.id, candidate.name]));
      const messages = await deps.outbox.list({ ...(org ? { orgId: org.id } : {}), limit });
      return messages.map((message) => ({
        id: message.id,
        orgName: message.org_id ? (names.get(message.org_id) ?? null) : null,
        to: message.to_address,
        subject: message.subject,
        body: message.body_text,
        createdAt: message.created_at.toISOString(),
        sentAt: message.sent_at?.toISOString() ?? null,
        attempts: message.attempts,
        lastError: message.error,
      }));
    },
  };
}

export type ManagementCommands = ReturnType<typeof createManagementCommands>;
