import { timingSafeEqual } from 'node:crypto';
import type { SessionCookies } from './cookies';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../errors';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The request body is larger than ${limit} bytes.`);
  }
}

/**
 * A rest-hook's POST (FHIR R4 Subscriptions carry no signature): the `Authorization: Bearer
 * <secret>` of the Subscription's channel.header, compared in constant time, and a bounded body.
 * Undefined when the request was answered here (405, 401, 413); `refused` is told of a wrong secret.
 */
export async function restHookBody(req: IncomingMessage, res: ServerResponse, secret: string, limit: number, refused: () => void): Promise<Buffer | undefined> {
  if (req.method !== 'POST') return void sendError(res, 405, ErrorCode.BAD_USER_INPUT, 'Use POST.', { allow: 'POST' });
  const expected = Buffer.from(`Bearer ${secret}`);
  const given = Buffer.from(req.headers.authorization ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    refused();
    return void sendError(res, 401, ErrorCode.UNAUTHENTICATED, 'The Authorization header does not carry the subscription secret.');
  }
  try {
    return await readBody(req, limit);
  } catch (err) {
    if (err instanceof BodyTooLargeError) return void sendError(res, 413, ErrorCode.BAD_USER_INPUT, err.message);
    throw err;
  }
}

/** Reads a request body up to `limit` bytes; stops reading (and says so) past the limit. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLargeError(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** A refusal outside GraphQL execution, shaped like a GraphQL error so every client reads it the same way. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string | string[]> = {},
  reason?: string,
): void {
  sendJson(res, status, { errors: [{ message, extensions: reason ? { code, reason } : { code } }] }, headers);
}

export function clientIp(req: IncomingMessage, trustProxy: boolean): string | null {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? null;
}

/** The session token of a request: the Authorization header, or the httpOnly cookie a browser login set. */
export function bearerToken(req: IncomingMessage, cookies: SessionCookies): string | null {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim() || null;
  return cookies.session(req);
}

/** A percent-encoded value (a path segment, a cookie), or null when it is not valid percent-encoding. */
export function safeDecode(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}

/** 403 with the gate's reason (or the fallback when the account is gone), never the file. */
export function sendRefusal(res: ServerResponse, refusal: Error | { access: unknown }, fallback: string): void {
  const gate = refusal instanceof GraphQLError ? refusal : null;
  sendError(res, 403, 'FORBIDDEN', gate?.message ?? fallback, {}, gate?.extensions.reason as string | undefined);
}
