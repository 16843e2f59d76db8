import { ArgsType, Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { BadUserInputError } from '../errors';

/**
 * Cursor pagination in the Relay connection shape (edges { cursor node }, pageInfo), added beside
 * the contract's plain lists: a frontend pages conversations, messages and the access log with
 * `first`/`after` (and messages backwards with `last`/`before`, newest first on screen). A cursor is
 * opaque to clients: the sort key of the row it stands for, so a page stays right when rows arrive
 * in between. At most 100 per page (SECURITY.md: list arguments capped).
 */
export const PAGE_MAX = 100;

@ObjectType({ description: 'Where this page lies in the whole list (Relay).' })
export class PageInfo {
  @Field() hasNextPage!: boolean;
  @Field() hasPreviousPage!: boolean;
  @Field(() => String, { nullable: true }) startCursor!: string | null;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

@ArgsType()
export class ForwardPage {
  @Field(() => Int, { defaultValue: 20, description: 'How many, 1 to 100.' }) first!: number;
  @Field(() => String, { nullable: true, description: 'The endCursor of the page before.' }) after?: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface ConnectionShape<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
}

/** The Connection and Edge object types of a node type (e.g. ConversationConnection, ConversationEdge). */
export function connectionOf<T extends object>(node: ClassType<T>, name: string): ClassType<ConnectionShape<T>> {
  @ObjectType(`${name}Edge`)
  class EdgeType {
    @Field(() => String) cursor!: string;
    @Field(() => node) node!: T;
  }
  @ObjectType(`${name}Connection`, { description: `A page of ${name} items (Relay connection).` })
  class ConnectionType {
    @Field(() => [EdgeType]) edges!: EdgeType[];
    @Field(() => PageInfo) pageInfo!: PageInfo;
  }
  return ConnectionType;
}

/** A sort key as a cursor: the row's time (or another ordered value) and its id. */
export function toCursor(key: string, id: string): string {
  return Buffer.from(JSON.stringify([key, id])).toString('base64url');
}

/** The sort key a cursor stands for; a cursor this gateway did not make is BAD_USER_INPUT. */
export function fromCursor(cursor: string, argument: string): { key: string; id: string } {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((p) => typeof p === 'string' && p.length <= 200))
      return { key: parsed[0] as string, id: parsed[1] as string };
  } catch {
    // Falls through to the refusal below.
  }
  throw new BadUserInputError(`${argument} is not a cursor this list handed out.`, { argument });
}

/** `first`/`last` within 1..100, or BAD_USER_INPUT naming the argument. */
export function pageSize(value: number, argument: string): number {
  if (!Number.isInteger(value) || value < 1 || value > PAGE_MAX)
    throw new BadUserInputError(`${argument} must be between 1 and ${PAGE_MAX}.`, { argument, limit: PAGE_MAX });
  return value;
}

/**
 * One page of rows fetched one more than asked (the extra one says whether there is a next page),
 * as edges; `backwards`: rows came newest first and are shown oldest first.
 */
export function pageOf<R, T>(
  rows: R[],
  size: number,
  keyOf: (row: R) => { key: string; id: string },
  present: (row: R) => T,
  direction: { backwards: boolean; from: boolean },
): ConnectionShape<T> {
  const more = rows.length > size;
  const page = rows.slice(0, size);
  if (direction.backwards) page.reverse();
  const edges = page.map((row) => {
    const k = keyOf(row);
    return { cursor: toCursor(k.key, k.id), node: present(row) };
  });
  return {
    edges,
    pageInfo: {
      hasNextPage: direction.backwards ? direction.from : more,
      hasPreviousPage: direction.backwards ? more : direction.from,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}
