/** What the operator does after a rotation: printed by the CLI, so it names files and variables exactly. */
export function rotationNextSteps(input: { generated: boolean }): string[] {
  return [
    'every object is now wrapped by the current master key',
    input.generated
      ? 'back up DATA_DIR/master.key now (it is the new key; older backups of it hold the old key)'
      : 'make sure every server, worker and CLI host runs with the new MASTER_KEY',
    'take a fresh backup: backups made before this rotation can only be restored with the old key',
    'check with `guardian keys status` that no object is left under an old key, then run `guardian keys retire`',
  ];
}

export function retireInstructions(input: {
  generated: boolean;
  retired: readonly string[];
  rotationStartedAt: string | null;
}): string[] {
  if (input.retired.length === 0) return ['no previous master key was configured: nothing to retire'];
  const names = input.retired.join(', ');
  const before = input.rotationStartedAt ? ` (taken before ${input.rotationStartedAt})` : '';
  return [
    `retired ${names}: this process no longer holds it, and the platform refuses it as MASTER_KEY and warns while it is configured`,
    input.generated
      ? 'DATA_DIR/master.key.previous was deleted; copies of the old key remain in DATA_DIR backups and file-system snapshots'
      : 'remove MASTER_KEY_PREVIOUS (or MASTER_KEY_PREVIOUS_FILE) from the environment of every server, worker and CLI host and restart them',
    `backups${before} need the old key to restore: keep it, offline, with those backups for as long as you keep them`,
    'when no such backup is kept any more, destroy every copy of the old key (secret manager entries, env files, key escrow); then nothing it wrapped can be decrypted',
  ];
}
