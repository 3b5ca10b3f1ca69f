import { jobDefinitions, type JobHandler } from '../../src/queue/job-table.js';

/** The table entries of every job but analysis (anchors, retention, housekeeping, webhooks), for tests that define their own analysis job settings. */
export const anchorJobDefinitions = {
  'anchor.rfc3161': jobDefinitions['anchor.rfc3161'],
  'anchor.solana': jobDefinitions['anchor.solana'],
  'retention.run': jobDefinitions['retention.run'],
  'housekeeping.run': jobDefinitions['housekeeping.run'],
  'webhook.deliver': jobDefinitions['webhook.deliver'],
};

const unexpected = (name: string) => () =>
  Promise.reject(new Error(`${name}: this test enqueues no such job`));

/** Handlers for queue tests about the analysis job: the queue refuses an incomplete set, and none of these may run. */
export const unexpectedAnchorJobs: {
  'anchor.rfc3161': JobHandler<'anchor.rfc3161'>;
  'anchor.solana': JobHandler<'anchor.solana'>;
  'retention.run': JobHandler<'retention.run'>;
  'housekeeping.run': JobHandler<'housekeeping.run'>;
  'webhook.deliver': JobHandler<'webhook.deliver'>;
} = {
  'anchor.rfc3161': unexpected('anchor.rfc3161'),
  'anchor.solana': unexpected('anchor.solana'),
  'retention.run': unexpected('retention.run'),
  'housekeeping.run': unexpected('housekeeping.run'),
  'webhook.deliver': unexpected('webhook.deliver'),
};
