import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * How the proxy treats the next requests: `pass` forwards them; `refuse` drops every connection at
 * once; `hang` accepts and never answers; `lose` forwards the request (the upstream acts on it)
 * and drops the answer; `unavailable` answers 503 itself.
 */
export type FaultMode = 'pass' | 'refuse' | 'hang' | 'lose' | 'unavailable';

export interface FaultProxy {
  /** The target's base URL through the proxy (same path). */
  baseUrl: string;
  mode: FaultMode;
  /** Requests that reached the proxy, whatever became of them. */
  requests: number;
  close(): Promise<void>;
}

/** A proxy in front of an HTTP upstream (the FHIR server) that can refuse, hang or lose answers, switched at any time. */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const to = new URL(target);
  let mode: FaultMode = 'pass';
  let requests = 0;
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests++;
    if (mode === 'refuse') return void req.socket.destroy();
    if (mode === 'hang') {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    if (mode === 'unavailable') {
      res
        .writeHead(503, { 'content-type': 'application/fhir+json' })
        .end('{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"transient"}]}');
      return;
    }
    const lose = mode === 'lose';
    const upstream = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      if (lose) {
        // The upstream did the work; its answer never reaches the caller.
        answer.resume();
        answer.on('end', () => req.socket.destroy());
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}${to.pathname}`,
    get mode() {
      return mode;
    },
    set mode(next: FaultMode) {
      mode = next;
      if (next === 'refuse') server.closeAllConnections();
      if (next !== 'hang') for (const res of hanging) res.destroy();
    },
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
