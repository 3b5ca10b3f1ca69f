/** Postgres type ids whose text form we parse ourselves, identically for pg and PGlite. */
export const INT8_OID = 20;

/** int8 (bigint, count(*)) as a number when it fits exactly, else a bigint, so sizes stay plain numbers. */
export function parseInt8(text: string): number | bigint {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : BigInt(text);
}
