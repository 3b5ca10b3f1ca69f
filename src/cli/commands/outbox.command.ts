import type { CliCommand } from '../cli-command.js';
import { runManagement } from './manage.command.js';

export interface OutboxListEntry {
  id: string;
  orgName: string | null;
  to: string;
  subject: string;
  body: string;
  createdAt: string;
  sentAt: string | null;
  attempts: number;
  lastError: string | null;
}

const usage = 'usage: guardian outbox list [--org NAME] [--limit N]';

function state(message: OutboxListEntry): string {
  if (message.sentAt) return `sent ${message.sentAt}`;
  if (message.lastError) return `not delivered after ${message.attempts} attempt(s): ${message.lastError}`;
  return 'not sent';
}

/** `guardian outbox list`: mail held in (or delivered from) the outbox, newest first, bodies included. */
export const outboxCommand: CliCommand = {
  options: { org: { type: 'string' }, limit: { type: 'string', default: '20' } },
  async run({ positionals, values, loadConfig }) {
    const limit = Number(values.limit);
    if (positionals.join(' ') !== 'list' || !Number.isInteger(limit)) {
      console.error(usage);
      return 2;
    }
    const messages = (await runManagement(loadConfig(), 'outbox.list', {
      limit,
      ...(typeof values.org === 'string' ? { orgName: values.org } : {}),
    })) as OutboxListEntry[];
    if (messages.length === 0) console.error('the outbox is empty');
    for (const message of messages) {
      console.log(`--- ${message.createdAt}  ${message.id}`);
      console.log(`To: ${message.to}${message.orgName ? `  (organisation "${message.orgName}")` : ''}`);
      console.log(`Subject: ${message.subject}`);
      console.log(`State: ${state(message)}`);
      console.log('');
      console.log(message.body === '' ? '(body removed after delivery)' : message.body);
      console.log('');
    }
    return 0;
  },
};
