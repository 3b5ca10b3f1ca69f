import { jobDefinitions, type JobHandler } from '../../src/queue/job-table.js';

/** The anchor jobs' table entries, for tests that define their own analysis job settings. */
export const anchorJobDefinitions = {
  'anchor.rfc3161': jobDefinitions['anchor.rfc3161'],
  'anchor.solana': jobDefinitions['anchor.solana'],
};

const unexpected = (name: string) => () =>
  Promise.reject(new Error(`${name}: no anchor job is enqueued in this test`));

/** Handlers for queue tests about other jobs: the queue refuses an incomplete set, and none of these may run. */
export const unexpectedAnchorJobs: {
  'anchor.rfc3161': JobHandler<'anchor.rfc3161'>;
  'anchor.solana': JobHandler<'anchor.solana'>;
} = {
  'anchor.rfc3161': unexpected('anchor.rfc3161'),
  'anchor.solana': unexpected('anchor.solana'),
};
