/** The bounds the API accepts for `mediaRetentionDays` (src/services/retention.service.ts). */
export const retentionDaysBounds = { min: 1, max: 36_500 } as const;

/** The form's choice as the API body, or a sentence saying what to fix. */
export function readRetentionChoice(
  mode: string,
  daysText: string,
): { mediaRetentionDays: number | null } | { problem: string } {
  if (mode === 'forever') return { mediaRetentionDays: null };
  const text = daysText.trim();
  const days = Number(text);
  if (!/^\d+$/.test(text) || days < retentionDaysBounds.min || days > retentionDaysBounds.max)
    return { problem: 'Enter a whole number of days from 1 to 36 500, or choose to keep media.' };
  return { mediaRetentionDays: days };
}

/** The policy in one sentence, as it stands. */
export function retentionPolicyWords(mediaRetentionDays: number | null): string {
  if (mediaRetentionDays === null) return 'Uploaded media is kept until someone deletes it.';
  const days = mediaRetentionDays === 1 ? '1 day' : `${mediaRetentionDays.toLocaleString('en-GB')} days`;
  return `Uploaded media is crypto-shredded ${days} after upload.`;
}
