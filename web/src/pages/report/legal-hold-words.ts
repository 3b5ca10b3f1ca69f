/** Who set a legal hold, from the API's `user:<id>` / `api-key:<id>`; `you` when it is the reader. */
export function holderWords(by: string, myUserId: string): string {
  if (by === `user:${myUserId}`) return 'you';
  const [kind, id = ''] = by.split(':', 2);
  if (kind === 'user') return `an admin (user ${id.slice(0, 8)})`;
  if (kind === 'api-key') return `an API key (${id.slice(0, 8)})`;
  return by;
}
