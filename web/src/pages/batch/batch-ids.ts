const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const maxBatch = 50;

/** The media ids of `?media=<id>,<id>`, without duplicates or anything that is not an id. */
export function batchMediaIds(search: string): string[] {
  const listed = new URLSearchParams(search).get('media')?.split(',') ?? [];
  return [...new Set(listed.map((id) => id.trim()).filter((id) => uuid.test(id)))].slice(0, maxBatch);
}
