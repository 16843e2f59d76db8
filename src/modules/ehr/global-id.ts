/** Ids of EHR-owned items are `<source>:<external id>`, so an id says which care organisation holds it. */
export function globalId(source: string, externalId: string): string {
  return `${source}:${externalId}`;
}

export function parseGlobalId(id: string): { source: string; externalId: string } | null {
  const at = id.indexOf(':');
  if (at <= 0 || at === id.length - 1) return null;
  return { source: id.slice(0, at), externalId: id.slice(at + 1) };
}
