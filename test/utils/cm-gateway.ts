import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An SMS as the fake gateway accepted it. */
export interface GatewaySms {
  from: string;
  /** As CM.com receives numbers: 0031612345678. */
  to: string;
  text: string;
  reference: string;
}

export interface CmGateway {
  /** The message endpoint, for SMS_GATEWAY_URL. */
  url: string;
  productToken: string;
  accepted: GatewaySms[];
  /** Requests the gateway refused (wrong token, a malformed body, a bad number). */
  refused: number;
  next(number: string, after?: number, timeoutMs?: number): Promise<GatewaySms>;
  stop(): Promise<void>;
}

type Msg = { from?: unknown; to?: { number?: unknown }[]; body?: { type?: unknown; content?: unknown }; reference?: unknown };

/**
 * A stand-in for CM.com's Business Messaging gateway (`POST /v1.0/message`) as its documentation
 * and SDKs describe it: the product token in `messages.authentication.producttoken`, each `msg` with
 * `from`, `to[].number` (00-international) and `body.content`; answered 200 `{ details, errorCode: 0,
 * messages: [{ to, status: 'Accepted', reference, parts, messageDetails: null, messageErrorCode: 0 }] }`,
 * or 400 with an errorCode (101: authentication failed; 201: a message was rejected) and details.
 */
export async function startCmGateway(productToken = '8a0f1c3e-6d2b-4a59-9e7c-1f2d3c4b5a69'): Promise<CmGateway> {
  const accepted: GatewaySms[] = [];
  let refused = 0;
  const answer = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1.0/message') return answer(res, 404, { details: 'Not found', errorCode: 999, messages: [] });
      let body: { messages?: { authentication?: { producttoken?: unknown }; msg?: Msg[] } };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        refused++;
        return answer(res, 400, { details: 'The request could not be parsed', errorCode: 999, messages: [] });
      }
      if (body.messages?.authentication?.producttoken !== productToken || req.headers['x-cm-producttoken'] !== productToken) {
        refused++;
        return answer(res, 400, { details: 'No account found for the given authentication', errorCode: 101, messages: [] });
      }
      const msgs = body.messages.msg ?? [];
      const results = msgs.flatMap((m) =>
        (m.to ?? []).map((to) => {
          const number = String(to.number ?? '');
          const ok = /^00\d{9,15}$/.test(number) && typeof m.body?.content === 'string' && m.body.content.length > 0 && typeof m.from === 'string';
          if (ok) accepted.push({ from: String(m.from), to: number, text: String(m.body!.content), reference: String(m.reference ?? '') });
          return {
            to: number,
            status: ok ? 'Accepted' : 'Rejected',
            reference: m.reference ?? null,
            parts: ok ? 1 : 0,
            messageDetails: ok ? null : `Gsm '${number}' is not a number.`,
            messageErrorCode: ok ? 0 : 303,
          };
        }),
      );
      if (!results.length || results.some((r) => r.status !== 'Accepted')) {
        refused++;
        return answer(res, 400, { details: 'Errors in messages', errorCode: 201, messages: results });
      }
      answer(res, 200, { details: `Created ${results.length} message(s)`, errorCode: 0, messages: results });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1.0/message`,
    productToken,
    accepted,
    get refused() {
      return refused;
    },
    async next(number, after = 0, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = accepted.slice(after).find((m) => m.to === number);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no SMS to ${number} reached the gateway`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
