import type { KeyRotationService } from '../../services/key-rotation.service.js';
import type { CliCommand } from '../cli-command.js';
import { runManagement } from './manage.command.js';

const usage =
  'usage: guardian keys status [--json] | guardian keys rotate [--generate] [--json] | guardian keys retire [--json]';

type Status = Awaited<ReturnType<KeyRotationService['status']>>;
type Rotated = Awaited<ReturnType<KeyRotationService['rotate']>>;
type Retired = Awaited<ReturnType<KeyRotationService['retire']>>;

/** `guardian keys`: master key rotation, in the running server when there is one (embedded mode). */
export const keysCommand: CliCommand = {
  options: { generate: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
  async run({ positionals, values, loadConfig }) {
    const verb = positionals.join(' ');
    const json = values.json === true;
    if (verb === 'status') {
      const status = (await runManagement(loadConfig(), 'keys.status', {})) as Status;
      if (json) console.log(JSON.stringify(status, null, 2));
      else printStatus(status);
      return 0;
    }
    if (verb === 'rotate') {
      const rotated = (await runManagement(loadConfig(), 'keys.rotate', {
        generate: values.generate === true,
      })) as Rotated;
      if (json) console.log(JSON.stringify(rotated, null, 2));
      else printRotated(rotated);
      return 0;
    }
    if (verb === 'retire' && values.generate !== true) {
      const retired = (await runManagement(loadConfig(), 'keys.retire', {})) as Retired;
      if (json) console.log(JSON.stringify(retired, null, 2));
      else for (const line of retired.instructions) console.log(`- ${line}`);
      return 0;
    }
    console.error(usage);
    return 2;
  },
};

function printStatus(status: Status): void {
  console.log(`current master key: ${status.current.kekId}`);
  for (const kek of status.previous)
    console.log(
      `previous (unwrap only): ${kek.kekId}${kek.retired ? '  RETIRED: remove it from the configuration' : ''}`,
    );
  console.log('objects by wrapping key:');
  if (status.wrapped.length === 0) console.log('  (none stored)');
  for (const entry of status.wrapped) {
    const kinds = Object.entries(entry.objects)
      .map(([name, count]) => `${name} ${count}`)
      .join(', ');
    const role = entry.role === 'unknown' ? 'NOT CONFIGURED: unreadable' : entry.role;
    console.log(`  ${entry.kekId} (${role}${entry.retired ? ', retired' : ''}): ${entry.total} (${kinds})`);
  }
  if (status.unreadable > 0) console.log(`  unreadable headers: ${status.unreadable}`);
  const rotation = status.rotation;
  if (rotation) {
    const state =
      rotation.status === 'running'
        ? rotation.active
          ? 'running'
          : 'interrupted: rerun `guardian keys rotate`'
        : rotation.status;
    console.log(
      `last rotation ${rotation.id} to ${rotation.toKekId}: ${state}, ${rotation.objectsDone} re-wrapped, phase ${rotation.phase ?? '-'}, started ${rotation.startedAt}${rotation.finishedAt ? `, finished ${rotation.finishedAt}` : ''}`,
    );
    if (rotation.lastError) console.log(`  last error: ${rotation.lastError}`);
  }
  if (status.readyToRetire)
    console.log('nothing is wrapped by a previous key: `guardian keys retire` can run');
}

function printRotated(rotated: Rotated): void {
  if (rotated.generated)
    console.log(`generated a new master key ${rotated.currentKek} (DATA_DIR/master.key)`);
  console.log(
    `rotation ${rotated.rotationId}${rotated.resumed ? ' (resumed)' : ''}: ${rotated.objectsDone} object(s) re-wrapped under ${rotated.currentKek}, ${rotated.alreadyCurrent} already under it`,
  );
  for (const [name, tally] of Object.entries(rotated.collections))
    console.log(
      `  ${name}: ${tally.rewrapped} re-wrapped, ${tally.alreadyCurrent} already current, ${tally.vanished} gone meanwhile`,
    );
  console.log('next:');
  for (const line of rotated.nextSteps) console.log(`- ${line}`);
}
