import { z } from 'zod';
import type { PagePosition } from '../repositories/history.repository.js';
import { badRequest } from './errors.js';

export type CursorKind = 'media' | 'analyses';

const cursorSchema = z.strictObject({
  k: z.enum(['media', 'analyses']),
  t: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
  i: z.uuid(),
});

/** Opaque to clients: base64url of the last row's exact position and which list it belongs to. */
export function encodeCursor(kind: CursorKind, position: PagePosition): string {
  return Buffer.from(JSON.stringify({ k: kind, t: position.createdAt, i: position.id })).toString(
    'base64url',
  );
}

/** The position a cursor of this list names; 400 `invalid-cursor` for anything else. */
export function decodeCursor(kind: CursorKind, cursor: string): PagePosition {
  const invalid = () => badRequest('invalid-cursor', 'the cursor is not one this list handed out');
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) throw invalid();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const parsed = cursorSchema.safeParse(decoded);
  if (!parsed.success || parsed.data.k !== kind || Number.isNaN(Date.parse(parsed.data.t))) throw invalid();
  return { createdAt: parsed.data.t, id: parsed.data.i };
}
