type DetailValue = string | number | boolean | null;

export interface AuditActorView {
  type: 'user' | 'api-key' | 'cli' | 'anonymous' | 'system';
  id: string | null;
}

const actorWords: Record<AuditActorView['type'], string> = {
  user: 'User',
  'api-key': 'API key',
  cli: 'Command line',
  anonymous: 'Anonymous',
  system: 'System',
};

/** Who acted, with a short id a reader can match against the users or keys lists. */
export function describeActor(actor: AuditActorView, emailsById: ReadonlyMap<string, string>): string {
  const word = actorWords[actor.type];
  if (!actor.id) return word;
  const email = actor.type === 'user' ? emailsById.get(actor.id) : undefined;
  return email ? `${word} ${email}` : `${word} ${actor.id.slice(0, 8)}`;
}

/** `key: value` pairs of an event's details, in a stable order. */
export function formatDetails(details: Record<string, DetailValue>): string {
  return Object.keys(details)
    .sort()
    .map((key) => `${key}: ${String(details[key])}`)
    .join(', ');
}
