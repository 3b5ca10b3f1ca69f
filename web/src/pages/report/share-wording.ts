import type { paths } from '../../api/schema.js';

export type ShareView =
  paths['/api/v1/analyses/{id}/shares']['get']['responses'][200]['content']['application/json']['items'][number];
export type SharedReportView =
  paths['/api/v1/shared-reports/{token}']['get']['responses'][200]['content']['application/json'];

export const shareExpiryChoices = [
  { hours: 1, label: '1 hour' },
  { hours: 24, label: '1 day' },
  { hours: 72, label: '3 days' },
  { hours: 168, label: '7 days' },
  { hours: 720, label: '30 days (the longest)' },
] as const;

export function shareStatusWords(share: Pick<ShareView, 'status' | 'includeMedia'>): string {
  const what = share.includeMedia ? 'report and media' : 'report only';
  if (share.status === 'revoked') return `revoked (${what})`;
  if (share.status === 'expired') return `expired (${what})`;
  return `active (${what})`;
}

/** What a visitor of a share link is told when it does not open (by the API's stable codes). */
export function sharedReportFailure(code: string | undefined): string {
  if (code === 'share-link-expired') return 'This share link has expired. Ask the sender for a new one.';
  if (code === 'share-link-revoked') return 'This share link was withdrawn by the organisation that made it.';
  if (code === 'share-link-invalid') return 'This share link is not valid. Check that it was copied in full.';
  if (code === 'rate-limited') return 'Too many requests from your network. Wait a minute and reload.';
  return 'The shared report could not be loaded. Please try again.';
}
