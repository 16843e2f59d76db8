import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kind, parse } from 'graphql';
import { ConfigError } from '../config';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * A trusted-documents safelist (persisted-query list): when configured, only the operations the
 * portal frontends were built with run. A client sends either the full query (its SHA-256 must be
 * listed) or only `extensions.persistedQuery.sha256Hash` (the query is taken from the list).
 * Unlike APQ, an unknown query is never registered.
 */
export class TrustedDocuments {
  private constructor(private readonly byHash: Map<string, string>) {}

  /**
   * The file is a JSON array of query strings, an object { "<sha256>": "<query>" } (graphql-codegen's
   * client preset, whose ids may read `sha256:<hex>`), or Apollo's persisted-query manifest ({ "format": "apollo-persisted-query-manifest",
   * "version": 1, "operations": [{ "id", "name", "type", "body" }] }, from
   * @apollo/generate-persisted-query-manifest, ids the SHA-256 of the body as its default makes them).
   */
  static load(path: string): TrustedDocuments {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new ConfigError('TRUSTED_DOCUMENTS', `cannot be read as JSON (${(err as Error).message})`);
    }
    const entries = entriesOf(json);
    for (const [hash, query] of entries) {
      if (sha256(query) !== hash) throw new ConfigError('TRUSTED_DOCUMENTS', `lists a query under a hash that is not its SHA-256 (${hash.slice(0, 12)}…)`);
    }
    return new TrustedDocuments(new Map(entries));
  }

  /** The names of the listed operations (the only operation names metrics label by). */
  operationNames(): Set<string> {
    const names = new Set<string>();
    for (const query of this.byHash.values()) {
      try {
        for (const def of parse(query).definitions) if (def.kind === Kind.OPERATION_DEFINITION && def.name) names.add(def.name.value);
      } catch {
        // A listed text that does not parse names nothing; running it is refused as for anyone.
      }
    }
    return names;
  }

  get size(): number {
    return this.byHash.size;
  }

  /** The query to run, or null when the request is not a trusted document. */
  resolve(query: unknown, extensions: unknown): string | null {
    if (typeof query === 'string' && query.length) return this.byHash.has(sha256(query)) ? query : null;
    const hash = (extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery?.sha256Hash;
    return typeof hash === 'string' ? (this.byHash.get(hash) ?? null) : null;
  }
}

interface ApolloManifest {
  format: 'apollo-persisted-query-manifest';
  version: number;
  operations: { id: string; body: string }[];
}

function isApolloManifest(json: unknown): json is ApolloManifest {
  return typeof json === 'object' && json !== null && (json as { format?: unknown }).format === 'apollo-persisted-query-manifest';
}

function entriesOf(json: unknown): (readonly [string, string])[] {
  if (Array.isArray(json)) return json.map((q) => [sha256(String(q)), String(q)] as const);
  if (isApolloManifest(json)) {
    if (json.version !== 1 || !Array.isArray(json.operations))
      throw new ConfigError('TRUSTED_DOCUMENTS', 'is an Apollo manifest of another version than 1, or without operations');
    return json.operations.map((op) => [String(op.id), String(op.body)] as const);
  }
  if (typeof json !== 'object' || json === null)
    throw new ConfigError('TRUSTED_DOCUMENTS', 'must be a list of queries, a hash → query object or an Apollo manifest');
  // graphql-codegen's client preset writes its ids as `sha256:<hex>` (the GraphQL-over-HTTP persisted-documents form).
  return Object.entries(json as Record<string, string>).map(([id, query]) => [id.replace(/^sha256:/, ''), String(query)] as const);
}
