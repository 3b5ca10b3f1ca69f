/**
 * The web app's verify page for one logged statement: enough to look the record up (its leaf index in the
 * transparency log and the SHA-256 of the statement). Free of Node imports: the web app reads the same shape.
 */
export function verifyPageUrl(publicUrl: string, record: { leafIndex: number; statementSha256: string }) {
  const query = new URLSearchParams({ leaf: String(record.leafIndex), statement: record.statementSha256 });
  return `${publicUrl.replace(/\/+$/, '')}/verify?${query.toString()}`;
}
