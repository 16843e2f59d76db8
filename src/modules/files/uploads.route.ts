import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { Reason } from '../../auth/access';
import { LIMITS } from '../../kv/rate-limit';
import { ErrorCode, RateLimitedError } from '../../errors';
import { AttachmentRefusedError, UploadNotKeptError } from './attachments.service';
import type { AttachmentEntity } from '../messages/message.entity';
import type { Logger } from '../../observability/logger';
import type { Services } from '../../services';
import { bearerToken, sendError, sendJson } from '../../http/io';

/**
 * POST /files (multipart, one file, session required) → { id, name, mediaType, size }. The file
 * streams to storage (never held in memory); the id is then usable once, by its uploader only.
 */
export function uploadsRoute(services: Services, logger: Logger) {
  const { config } = services;
  return async (req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> => {
    if (req.method !== 'POST') return sendError(res, 405, ErrorCode.BAD_USER_INPUT, 'Upload a file with POST (multipart/form-data).');
    const token = bearerToken(req, services.cookies);
    const viewer = token ? await services.sessions.authenticate(token).catch(() => null) : null;
    if (!viewer) return sendError(res, 401, ErrorCode.UNAUTHENTICATED, 'Log in first: uploading needs a valid session.');
    // A browser's cookie alone would let another site post a form here: ask for a header a plain form cannot set.
    if (!req.headers.authorization && !req.headers['apollo-require-preflight'] && !req.headers['x-requested-with']) {
      return sendError(res, 403, ErrorCode.FORBIDDEN, 'Send the Authorization header, or x-requested-with with the session cookie.');
    }
    if (viewer.mustChangePassword)
      return sendError(res, 403, ErrorCode.FORBIDDEN, 'Set a new password first (changePassword).', {}, Reason.PASSWORD_CHANGE_REQUIRED);
    // A file is only ever used in a portal: an account that has none has nothing to upload for.
    if (!(await services.accounts.portals(viewer.accountId)).length) {
      return sendError(res, 403, ErrorCode.FORBIDDEN, 'Uploading is for accounts with a portal.', {}, Reason.NO_RELATION);
    }
    if (!/^multipart\/form-data/i.test(req.headers['content-type'] ?? ''))
      return sendError(res, 400, ErrorCode.BAD_USER_INPUT, 'Send the file as multipart/form-data.');
    try {
      await services.limiter.hit('uploads', viewer.accountId, LIMITS.uploadsPerAccount);
    } catch (err) {
      if (!(err instanceof RateLimitedError)) throw err;
      return sendError(res, 429, ErrorCode.RATE_LIMITED, err.message, { 'retry-after': String(err.retryAfterSeconds), connection: 'close' });
    }
    const declared = Number(req.headers['content-length']);
    // Multipart framing adds a little; anything far over the limit is refused before reading it.
    if (Number.isFinite(declared) && declared > config.UPLOAD_MAX_BYTES + 64 * 1024) {
      return sendError(res, 413, ErrorCode.BAD_USER_INPUT, `The file is larger than the limit of ${config.UPLOAD_MAX_BYTES} bytes.`, { connection: 'close' });
    }

    let upload: Promise<AttachmentEntity> | null = null;
    let file: Readable | null = null;
    // A refusal (too large, a wrong type) is answered at once, not after the rest of the body
    // arrived at the sender's pace; the connection is then closed, which stops the sending.
    let refuse: (err: AttachmentRefusedError) => void = () => undefined;
    const refused = new Promise<AttachmentRefusedError>((resolve) => (refuse = resolve));
    const parsed = new Promise<void>((resolve, reject) => {
      let bb: busboy.Busboy;
      try {
        bb = busboy({ headers: req.headers, limits: { files: 1, fileSize: config.UPLOAD_MAX_BYTES + 1, fields: 10, parts: 12 } });
      } catch (err) {
        return reject(err);
      }
      bb.on('file', (_field, stream, info) => {
        if (upload) return void stream.resume();
        file = stream;
        const started = services.attachments.upload(viewer.accountId, info.filename ?? 'bestand', stream);
        started.catch((err: unknown) => {
          if (err instanceof AttachmentRefusedError) refuse(err);
        });
        upload = started;
      });
      bb.once('close', () => resolve());
      bb.once('error', reject);
      req.pipe(bb);
    });
    // A sender that stops sending, or goes away, fails the upload: storage removes what it wrote.
    const stalled = () => {
      file?.destroy(new Error('the upload stopped arriving'));
      req.destroy();
    };
    req.setTimeout(config.UPLOAD_IDLE_TIMEOUT_MS, stalled);
    req.once('close', () => {
      if (!req.complete) file?.destroy(new Error('the sender went away'));
    });

    try {
      const first = await Promise.race([parsed.then(() => null), refused]);
      if (first) return refuseNow(req, res, first);
      if (!upload) return sendError(res, 400, ErrorCode.BAD_USER_INPUT, 'The request holds no file.');
      const row = await (upload as Promise<AttachmentEntity>);
      sendJson(res, 200, { id: row.id, name: row.name, mediaType: row.mediaType, size: row.size });
    } catch (err) {
      if (err instanceof AttachmentRefusedError) return refuseNow(req, res, err);
      if (err instanceof UploadNotKeptError) {
        logger.error({ err: err.message, requestId }, 'upload not kept');
        if (!res.headersSent)
          sendError(res, 503, ErrorCode.UPSTREAM_UNAVAILABLE, 'The file could not be kept just now; try again in a moment.', { connection: 'close' });
        return;
      }
      logger.warn({ err: (err as Error).message, requestId }, 'upload failed');
      if (!res.headersSent) sendError(res, 400, ErrorCode.BAD_USER_INPUT, 'The upload could not be read.', { connection: 'close' });
    }
  };
}

/** Answers a refused upload now and closes the connection once the answer is out (the rest is not read). */
function refuseNow(req: IncomingMessage, res: ServerResponse, err: AttachmentRefusedError): void {
  if (res.headersSent) return;
  res.once('finish', () => req.destroy());
  sendError(res, err.status, ErrorCode.BAD_USER_INPUT, err.message, { connection: 'close' });
}
