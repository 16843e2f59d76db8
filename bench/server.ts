import 'reflect-metadata';
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import { ALL_PERMISSIONS, PortalRelation } from '../src/auth/permissions';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/observability/logger';
import { createApp } from '../src/server';
import { Action, authorize } from '../src/auth/access';
import { createContext } from '../src/graphql/context';
import { writeAnswer } from '../src/graphql/execution/direct-path';
import { bearerToken, clientIp, readBody } from '../src/http/io';
import type { Services } from '../src/services';
import { AppointmentWindow } from '../src/modules/appointments/appointment.types';
import { readAgenda } from '../src/modules/appointments/appointments.service';
import { practitionerOrPlaceholder, withPractitioners } from '../src/modules/appointments/practitioners';
import { readAudited } from '../src/modules/dossier/dossier.resolver';
import { dossierReads } from '../src/modules/dossier/dossier.service';
import { benchData } from './fixture';

/**
 * One benchmark server, run in its own (pinned) process: `gateway`, `raw` or `duties` (see
 * dutiesServer), with an adapter delay in ms. Prints one JSON line {port, token, clientId, statsPort} when ready; GET on
 * statsPort answers the adapter's call counts so the runner can compute calls per request.
 */
async function main(): Promise<void> {
  const [mode, delayArg] = process.argv.slice(2);
  const adapter = new DemoEhrAdapter({ delayMs: Number(delayArg ?? 0), data: benchData() });
  let port: number;
  let token = '';
  let clientId = 'cl-karen';

  if (mode === 'gateway' || mode === 'duties') {
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), 'ggz-bench-')), 'bench.sqlite')}`,
      LOG_LEVEL: 'silent',
      DEMO_SEED: '0',
      GRAPHQL_MAX_COST: '100000',
      // Measure the adapter path itself: with the read-through cache on, W1/W2 would only measure the cache.
      CACHE_TTL_SECONDS: '0',
      // A variant of the gateway the runner asks for (the stock executor, trusted documents), as settings.
      ...(JSON.parse(process.env.BENCH_GATEWAY_ENV ?? '{}') as Record<string, string>),
    });
    const app = await createApp(config, { logger: createLogger('silent'), adapters: { demo: adapter } });
    const { accounts, clients, sessions } = app.services;
    const account = await accounts.create({ email: 'bench@demo.test', displayName: 'Karen Test' });
    clientId = await clients.ensureClient({ source: 'demo', externalId: 'cl-karen' });
    await accounts.link(account.id, clientId, PortalRelation.SELF, [...ALL_PERMISSIONS], true);
    token = (await sessions.create(account.id, 'bench')).accessToken;
    port = mode === 'duties' ? await dutiesServer(app.services) : Number(new URL(await app.start()).port);
  } else {
    port = await rawServer(adapter);
  }

  const stats = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(Object.fromEntries(adapter.calls)));
  });
  await new Promise<void>((r) => stats.listen(0, '127.0.0.1', () => r()));
  const statsPort = (stats.address() as { port: number }).port;
  console.log(JSON.stringify({ port, token, clientId, statsPort }));
}

/** The baseline: node:http calling the same adapter and answering the same JSON, nothing else. */
async function rawServer(adapter: DemoEhrAdapter): Promise<number> {
  const ctx = { requestId: 'raw' };
  // The baseline stays the plainest node:http handler there is (an async one, its promise unused).
  // eslint-disable-next-line @typescript-eslint/no-misused-promises
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const { query } = JSON.parse(Buffer.concat(chunks).toString()) as { query: string };
    const practitioner = async (ids: string[]) => new Map((await adapter.getPractitioners([...new Set(ids)], ctx)).map((p) => [p.externalId, p]));
    let body: unknown;
    if (query.includes('W1')) {
      const [appointments] = await Promise.all([adapter.listAppointments('cl-karen', {}, ctx), adapter.getDossierOverview('cl-karen', ctx)]);
      const upcoming = appointments.filter((a) => Date.parse(a.end) >= Date.now()).sort((a, b) => a.start.localeCompare(b.start));
      const next = upcoming[0];
      const people = await practitioner(next ? [next.practitionerId] : []);
      body = {
        data: {
          client: {
            dashboard: {
              upcomingAppointmentCount: upcoming.length,
              dossierPartCount: 9,
              nextAppointment: next ? { start: next.start, type: next.type, practitioner: { name: people.get(next.practitionerId)?.name } } : null,
            },
          },
        },
      };
    } else {
      const [appointments, medications, team] = await Promise.all([
        adapter.listAppointments('cl-karen', {}, ctx),
        adapter.listMedications('cl-karen', ctx),
        adapter.listTreatmentTeam('cl-karen', ctx),
      ]);
      const people = await practitioner([...appointments.map((a) => a.practitionerId), ...team.map((t) => t.practitionerId)]);
      const p = (id: string) => ({ id: `demo:${id}`, name: people.get(id)?.name, profession: people.get(id)?.profession });
      body = {
        data: {
          client: {
            appointments: appointments.map((a) => ({
              id: `demo:${a.externalId}`,
              start: a.start,
              end: a.end,
              type: a.type,
              location: a.location,
              online: a.online,
              practitioner: p(a.practitionerId),
            })),
            dossier: {
              medications: medications.map((m) => ({ id: `demo:${m.externalId}`, name: m.name, dosage: m.dosage })),
              treatmentTeam: team.map((t) => ({
                role: t.role,
                from: t.from,
                practitioner: { id: `demo:${t.practitionerId}`, name: people.get(t.practitionerId)?.name },
              })),
            },
          },
        },
      };
    }
    const text = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as { port: number }).port;
}

/**
 * W2 answered with the gateway's own duties and no GraphQL: the same session check, access gate,
 * access-log lines (awaited before the answer leaves), EHR reader with its adapter policies, and
 * mapping, called as W2's resolvers call them, and the answer's JSON built by hand in W2's shape.
 * Not there: graphql-jit, type-graphql, Apollo, the direct path, and the gateway's HTTP layer
 * (routing, the request id and nosniff headers, metrics). What the gateway costs beyond this server is
 * what executing GraphQL costs it; what this server costs beyond the raw handler is the duties.
 * W2 only (any other query is answered as W2 is), with the client id of the request's variables.
 */
async function dutiesServer(services: Services): Promise<number> {
  const { config } = services;
  const logger = createLogger('silent');
  const server = createServer((req, res) => {
    void (async () => {
      const { variables } = JSON.parse((await readBody(req, config.GRAPHQL_MAX_BODY_BYTES)).toString('utf8')) as { variables: { id: string } };
      const token = bearerToken(req, services.cookies);
      const viewer = token ? await services.sessions.authenticate(token) : null;
      const requestId = randomUUID();
      const ctx = createContext({ services, logger, logBindings: { requestId }, requestId, ip: clientIp(req, config.TRUST_PROXY), viewer });
      const id = variables.id;
      await authorize(ctx, id, Action.VIEW_PORTAL);
      const [appointments, [medications, team]] = await Promise.all([
        readAgenda(ctx, id, AppointmentWindow.ALL).then((list) => withPractitioners(ctx, list)),
        authorize(ctx, id, Action.VIEW_DOSSIER).then(() =>
          Promise.all([
            readAudited(ctx, id, 'dossier.medications.read', 'Medicatie', () => dossierReads.medications(ctx, id)),
            readAudited(ctx, id, 'dossier.team.read', 'Behandelteam', () => dossierReads.treatmentTeam(ctx, id)),
          ]),
        ),
      ]);
      const teamPractitioners = await Promise.all(team.map(async (m) => practitionerOrPlaceholder(ctx, m.practitionerId)));
      const body = {
        data: {
          client: {
            appointments: appointments.map((a) => ({
              id: a.id,
              start: a.start,
              end: a.end,
              type: a.type,
              location: a.location,
              online: a.online,
              practitioner: { id: a.practitioner.id, name: a.practitioner.name, profession: a.practitioner.profession },
            })),
            dossier: {
              medications: medications.map((m) => ({ id: m.id, name: m.name, dosage: m.dosage })),
              treatmentTeam: team.map((m, i) => ({
                role: m.role,
                from: m.from,
                practitioner: { id: teamPractitioners[i].id, name: teamPractitioners[i].name },
              })),
            },
          },
        },
      };
      // Apollo's bytes, written as the gateway's direct path writes them.
      writeAnswer(res, 'application/json; charset=utf-8', body);
    })().catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as { port: number }).port;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
