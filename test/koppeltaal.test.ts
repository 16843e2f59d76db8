import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ActivityDefinition, Device, Endpoint, Patient, RelatedPerson, Task } from '@medplum/fhirtypes';
import type { Client as WsClient } from 'graphql-ws';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { KT2 } from '../adapters/koppeltaal/koppeltaal.mapping';
import { EHEALTH_ROOMS } from '../src/modules/ehealth/ehealth.resolver';
import { LaunchKey } from '../src/modules/ehealth/launch-key';
import { clientIdOf, startTestApp, type TestApp } from './utils/app';
import { startFhirServer, type TestFhirServer } from './utils/fhir-server';
import { subscribeTo, until, socketClient } from './utils/live';

/**
 * Koppeltaal 2.0 end to end: the domain's FHIR server is Medplum's router seeded with KT2-shaped
 * Device, Endpoint, ActivityDefinition, Patient, RelatedPerson and Task resources; its token
 * endpoint and a module provider are stand-ins written here, each verifying what the gateway
 * signed against the gateway's own JWKS route with `jose`, as the Koppeltaal dev guide says a
 * module must ("Receiving a HTI launch": signature by `kid` from the issuer's JWKS, `iss`, `aud`,
 * `exp` at most 5 minutes after `iat`, `iat` not in the future, `jti` used once).
 */

const CLIENT_ID = 'ggz-portal-test';
const PATIENT_SYSTEM = 'urn:oid:2.16.840.1.113883.2.4.3.11.999.7.6';
const SECRET = 'koppeltaal-rest-hook-secret-0123456789';

interface ModuleStandIn {
  url: string;
  /** What the stand-in accepted, in order. */
  accepted: JWTPayload[];
  stop(): Promise<void>;
}

/** A module provider's launch endpoint: HTI 2.0 form post (`token`), checked exactly as the IG lists it. */
async function startModule(jwksUrl: () => string, audience: () => string): Promise<ModuleStandIn> {
  const used = new Set<string>();
  const accepted: JWTPayload[] = [];
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const refuse = (reason: string) => {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ refused: reason }));
        };
        if (req.method !== 'POST' || !String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) return refuse('not a form post');
        const token = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('token');
        if (!token) return refuse('no token');
        jwks ??= createRemoteJWKSet(new URL(jwksUrl()));
        let payload: JWTPayload;
        try {
          ({ payload } = await jwtVerify(token, jwks, {
            issuer: CLIENT_ID,
            audience: audience(),
            algorithms: ['RS256', 'ES256'],
            maxTokenAge: '5m',
            requiredClaims: ['iss', 'aud', 'sub', 'resource', 'iat', 'exp', 'jti'],
          }));
        } catch (err) {
          return refuse(`invalid: ${(err as Error).message}`);
        }
        if (payload.exp! - payload.iat! > 300) return refuse('exp more than 5 minutes after iat');
        if (used.has(payload.jti!)) return refuse('replayed jti');
        used.add(payload.jti!);
        accepted.push(payload);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ sub: payload.sub, resource: payload.resource }));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/launch`,
    accepted,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The domain's token endpoint (SMART backend services): accepts only a client assertion our JWKS verifies. */
async function startTokenEndpoint(jwksUrl: () => string): Promise<{ url: string; assertions: JWTPayload[]; stop(): Promise<void> }> {
  const assertions: JWTPayload[] = [];
  let url = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        try {
          if (form.get('grant_type') !== 'client_credentials') throw new Error('grant_type');
          if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') throw new Error('client_assertion_type');
          const { payload } = await jwtVerify(form.get('client_assertion') ?? '', createRemoteJWKSet(new URL(jwksUrl())), {
            issuer: CLIENT_ID,
            subject: CLIENT_ID,
            audience: url,
            algorithms: ['RS256', 'ES256'],
          });
          assertions.push(payload);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ access_token: 'koppeltaal-access-token', token_type: 'Bearer', expires_in: 300 }));
        } catch (err) {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'invalid_client', error_description: (err as Error).message }));
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/token`;
  return { url, assertions, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('eHealth modules launched with Koppeltaal 2.0', () => {
  let t: TestApp;
  let fhir: TestFhirServer;
  let module: ModuleStandIn;
  let tokens: Awaited<ReturnType<typeof startTokenEndpoint>>;
  let device: Device;
  let karenTask: Task;
  let parentTask: Task;
  let sanneOwnTask: Task;
  let definition: ActivityDefinition;
  let karenPatient: Patient;
  let sannePatient: Patient;
  let parentPerson: RelatedPerson;
  const sockets: WsClient[] = [];

  const ws = (token: string): WsClient => {
    const client = socketClient(t.base, token);
    sockets.push(client);
    return client;
  };
  const launch = (token: string, taskId: string) =>
    t.gql<{ launchEhealthModule: { url: string; method: string; fields: { name: string; value: string }[]; expiresAt: string } | null }>(
      'mutation($t: ID!) { launchEhealthModule(taskId: $t) { url method fields { name value } expiresAt } }',
      { t: taskId },
      token,
    );
  const modules = (token: string, clientId: string) =>
    t.gql<{ client: { ehealthModules: { id: string; title: string; status: string; progress: number | null; launchable: boolean }[] | null } }>(
      'query($c: ID!) { client(id: $c) { ehealthModules { id title status progress launchable } } }',
      { c: clientId },
      token,
    );
  /** The browser's form post of a launch answer to the module. */
  const post = (url: string, fields: { name: string; value: string }[]) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields.map((f): [string, string] => [f.name, f.value])).toString(),
    });
  const notify = (body = '', secret = SECRET) =>
    fetch(`${t.base}/koppeltaal/notify`, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/fhir+json' }, body });

  beforeAll(async () => {
    fhir = await startFhirServer();
    const jwksUrl = () => `${t.base}/.well-known/jwks.json`;
    module = await startModule(jwksUrl, () => `Device/${device.id}`);
    tokens = await startTokenEndpoint(jwksUrl);
    const repo = fhir.repo;
    device = await repo.createResource<Device>({
      resourceType: 'Device',
      meta: { profile: ['http://koppeltaal.nl/fhir/StructureDefinition/KT2Device'] },
      status: 'active',
      deviceName: [{ name: 'Minddistrict-achtig modulehuis', type: 'user-friendly-name' }],
    });
    const endpoint = await repo.createResource<Endpoint>({
      resourceType: 'Endpoint',
      meta: { profile: ['http://koppeltaal.nl/fhir/StructureDefinition/KT2Endpoint'] },
      status: 'active',
      connectionType: { system: 'http://vzvz.nl/fhir/CodeSystem/koppeltaal-endpoint-connection-type', code: 'hti-smart-on-fhir' },
      payloadType: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/endpoint-payload-type', code: 'any' }] }],
      address: module.url,
    });
    definition = await repo.createResource<ActivityDefinition>({
      resourceType: 'ActivityDefinition',
      meta: { profile: ['http://koppeltaal.nl/fhir/StructureDefinition/KT2ActivityDefinition'] },
      extension: [
        { url: KT2.endpoint, valueReference: { reference: `Endpoint/${endpoint.id}`, type: 'Endpoint' } },
        { url: KT2.resourceOrigin, valueReference: { reference: `Device/${device.id}`, type: 'Device' } },
      ],
      url: 'https://modules.example.test/ActivityDefinition/angst',
      name: 'OmgaanMetAngst',
      title: 'Omgaan met angst',
      description: 'Psycho-educatie in zes lessen.',
      status: 'active',
    });
    const parentDefinition = await repo.createResource<ActivityDefinition>({
      ...definition,
      id: undefined,
      url: 'https://modules.example.test/ActivityDefinition/ouders',
      name: 'OudersBijAngst',
      title: 'Ouders: je kind steunen bij angst',
    });
    karenPatient = await repo.createResource<Patient>({
      resourceType: 'Patient',
      identifier: [{ system: PATIENT_SYSTEM, value: 'cl-karen' }],
      name: [{ family: 'Test' }],
    });
    sannePatient = await repo.createResource<Patient>({
      resourceType: 'Patient',
      identifier: [{ system: PATIENT_SYSTEM, value: 'cl-sanne' }],
      name: [{ family: 'de Vries' }],
    });
    parentPerson = await repo.createResource<RelatedPerson>({
      resourceType: 'RelatedPerson',
      patient: { reference: `Patient/${sannePatient.id}` },
      telecom: [{ system: 'email', value: 'Parent@demo.test' }],
      relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'PRN' }] }],
    });
    const kt2Task = (patient: Patient, owner: string, ad: ActivityDefinition, extra: Partial<Task> = {}): Task => ({
      resourceType: 'Task',
      meta: { profile: ['http://koppeltaal.nl/fhir/StructureDefinition/KT2Task'] },
      extension: [
        { url: KT2.instantiates, valueReference: { reference: `ActivityDefinition/${ad.id}`, type: 'ActivityDefinition' } },
        { url: KT2.resourceOrigin, valueReference: { reference: 'Device/ecd', type: 'Device' } },
      ],
      instantiatesCanonical: ad.url,
      intent: 'order',
      status: 'ready',
      for: { reference: `Patient/${patient.id}`, type: 'Patient' },
      owner: { reference: owner },
      ...extra,
    });
    karenTask = await repo.createResource<Task>(
      kt2Task(karenPatient, `Patient/${karenPatient.id}`, definition, {
        status: 'in-progress',
        output: [{ type: { text: 'progress' }, valueInteger: 40 }],
      }),
    );
    parentTask = await repo.createResource<Task>(kt2Task(sannePatient, `RelatedPerson/${parentPerson.id}`, parentDefinition));
    sanneOwnTask = await repo.createResource<Task>(kt2Task(sannePatient, `Patient/${sannePatient.id}`, definition));
    // A subtask and a draft are never shown.
    await repo.createResource<Task>(kt2Task(karenPatient, `Patient/${karenPatient.id}`, definition, { partOf: [{ reference: `Task/${karenTask.id}` }] }));
    await repo.createResource<Task>(kt2Task(karenPatient, `Patient/${karenPatient.id}`, definition, { status: 'draft' }));

    t = await startTestApp({
      env: {
        KOPPELTAAL_FHIR_URL: fhir.baseUrl,
        KOPPELTAAL_CLIENT_ID: CLIENT_ID,
        KOPPELTAAL_TOKEN_URL: tokens.url,
        KOPPELTAAL_PATIENT_IDENTIFIER_SYSTEM: PATIENT_SYSTEM,
        KOPPELTAAL_EHR_SOURCE: 'demo',
        KOPPELTAAL_SUBSCRIPTION_SECRET: SECRET,
        KOPPELTAAL_LAUNCH_TTL_SECONDS: '120',
      },
    });
  });
  afterAll(async () => {
    for (const s of sockets) void s.dispose();
    await t?.stop();
    await Promise.all([fhir?.stop(), module?.stop(), tokens?.stop()]);
  });

  it("lists the client's assigned modules from the Koppeltaal domain with title, status and progress (no subtasks, no drafts)", async () => {
    const karen = await t.login('client@demo.test');
    const { body } = await modules(karen, await clientIdOf(t, 'cl-karen'));
    expect(body.errors).toBeUndefined();
    expect(body.data!.client.ehealthModules).toEqual([{ id: karenTask.id, title: 'Omgaan met angst', status: 'IN_PROGRESS', progress: 40, launchable: true }]);
    // The gateway authenticated to the domain with a client assertion signed by its own key (private_key_jwt).
    expect(tokens.assertions.length).toBeGreaterThan(0);
    const lines = await t.app.services.audit.list(await clientIdOf(t, 'cl-karen'), 20);
    expect(lines.some((l) => l.eventType === 'ehealth.modules.read' && l.action === 'R')).toBe(true);
    // The screen again: her Patient is known by now, so the domain is asked for her Tasks only.
    const before = fhir.requests.length;
    expect((await modules(karen, await clientIdOf(t, 'cl-karen'))).body.data!.client.ehealthModules).toHaveLength(1);
    expect(fhir.requests.slice(before).map((r) => r.path)).not.toContain('Patient');
  });

  it('passes the caller’s trace on to the Koppeltaal server (W3C traceparent), as the EHR calls do', async () => {
    const karen = await t.login('client@demo.test');
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const before = fhir.requests.length;
    const res = await fetch(`${t.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${karen}`, traceparent },
      body: JSON.stringify({ query: 'query($c: ID!) { client(id: $c) { ehealthModules { id } } }', variables: { c: await clientIdOf(t, 'cl-karen') } }),
    });
    expect(((await res.json()) as { errors?: unknown }).errors).toBeUndefined();
    const sent = fhir.requests.slice(before);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.map((r) => r.traceparent)).toEqual(sent.map(() => traceparent));
  });

  it('launches: the module stand-in accepts the HTI token the browser posts, with the claims as Koppeltaal composes them', async () => {
    const karen = await t.login('client@demo.test');
    const { body } = await launch(karen, karenTask.id!);
    expect(body.errors).toBeUndefined();
    const form = body.data!.launchEhealthModule!;
    expect(form).toMatchObject({ url: module.url, method: 'POST' });
    expect(form.fields.map((f) => f.name)).toEqual(['token']);
    const res = await post(form.url, form.fields);
    expect(res.status).toBe(200);
    const claims = module.accepted.at(-1)!;
    expect(claims).toMatchObject({
      iss: CLIENT_ID,
      aud: `Device/${device.id}`,
      sub: `Patient/${karenPatient.id}`,
      resource: `Task/${karenTask.id}`,
      definition: `ActivityDefinition/${definition.id}`,
    });
    expect(claims.patient).toBeUndefined();
    expect(claims.exp! - claims.iat!).toBe(120);
    const header = decodeProtectedHeader(form.fields[0].value);
    expect(header).toMatchObject({ typ: 'JWT', kid: expect.any(String) });
    const lines = await t.app.services.audit.list(await clientIdOf(t, 'cl-karen'), 20);
    expect(lines.some((l) => l.eventType === 'ehealth.module.launch' && l.action === 'E' && l.resource.includes(`Task/${karenTask.id}`))).toBe(true);
  });

  it('the module refuses a replayed launch token (its jti was used)', async () => {
    const karen = await t.login('client@demo.test');
    const form = (await launch(karen, karenTask.id!)).body.data!.launchEhealthModule!;
    expect((await post(form.url, form.fields)).status).toBe(200);
    const again = await post(form.url, form.fields);
    expect(again.status).toBe(401);
    expect(await again.json()).toEqual({ refused: 'replayed jti' });
  });

  it("the module refuses an expired launch token (signed by the gateway's own code with a past expiry)", async () => {
    const task = (await t.app.services.ehealth.task(karenTask.id!, { requestId: 'test' }))!;
    const old = t.app.services.ehealth.launch(
      { ...task, launchUrl: task.launchUrl!, device: task.device! },
      `Patient/${karenPatient.id}`,
      karenPatient.id!,
      Date.now() - 10 * 60_000,
    );
    const res = await post(old.url, old.fields);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { refused: string }).refused).toMatch(/invalid: .*("exp"|timestamp)/);
  });

  it('the module refuses a launch token signed with another key (even under our kid)', async () => {
    const karen = await t.login('client@demo.test');
    const form = (await launch(karen, karenTask.id!)).body.data!.launchEhealthModule!;
    const ours = decodeProtectedHeader(form.fields[0].value);
    const other = LaunchKey.from(undefined, ours.kid);
    const forged = other.signLaunch({ iss: CLIENT_ID, aud: `Device/${device.id}`, sub: `Patient/${karenPatient.id}`, resource: `Task/${karenTask.id}` }, 120);
    const res = await post(module.url, [{ name: 'token', value: forged.token }]);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { refused: string }).refused).toMatch(/signature/);
  });

  it('a parent sees and launches only the Task assigned to their own RelatedPerson: sub RelatedPerson, patient the child', async () => {
    const parent = await t.login('parent@demo.test');
    const sanne = await clientIdOf(t, 'cl-sanne');
    const { body } = await modules(parent, sanne);
    expect(body.data!.client.ehealthModules!.map((m) => m.id)).toEqual([parentTask.id]);
    const form = (await launch(parent, parentTask.id!)).body.data!.launchEhealthModule!;
    expect((await post(form.url, form.fields)).status).toBe(200);
    expect(module.accepted.at(-1)).toMatchObject({
      sub: `RelatedPerson/${parentPerson.id}`,
      patient: `Patient/${sannePatient.id}`,
      resource: `Task/${parentTask.id}`,
    });
    const own = await launch(parent, sanneOwnTask.id!);
    expect(own.body.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_TASK_PERFORMER' });
    expect(own.body.data?.launchEhealthModule ?? null).toBeNull();
  });

  it('a network member without the right gets FORBIDDEN for ehealthModules and launchEhealthModule; a stranger does not learn the Task exists', async () => {
    const relative = await t.login('relative@demo.test');
    const karenId = await clientIdOf(t, 'cl-karen');
    const list = await modules(relative, karenId);
    expect(list.body.errors?.[0]).toMatchObject({ path: ['client', 'ehealthModules'], extensions: { code: 'FORBIDDEN', reason: 'NO_PERMISSION' } });
    expect(list.body.data!.client.ehealthModules).toBeNull();
    const launched = await launch(relative, karenTask.id!);
    expect(launched.body.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NO_PERMISSION' });
    const stranger = await launch(await t.login('stranger@demo.test'), karenTask.id!);
    expect(stranger.body.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND' });
    const sub = subscribeTo(ws(relative), 'subscription($c: ID!) { ehealthModuleChanged(clientId: $c) { id status } }', { c: karenId }, 'ehealthModuleChanged');
    await until(() => (sub.errors.length ? true : undefined), 3000, 'the refusal');
    expect(sub.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('a Task status change reaches the subscribed client after a payload-less Koppeltaal rest-hook, and not a parent of someone else', async () => {
    const karenId = await clientIdOf(t, 'cl-karen');
    const sanneId = await clientIdOf(t, 'cl-sanne');
    const karen = ws(await t.login('client@demo.test'));
    const seen = subscribeTo<{ id: string; status: string; progress: number | null }>(
      karen,
      'subscription($c: ID!) { ehealthModuleChanged(clientId: $c) { id status progress } }',
      { c: karenId },
      'ehealthModuleChanged',
    );
    const parentSeen = subscribeTo<{ id: string }>(
      ws(await t.login('parent@demo.test')),
      'subscription($c: ID!) { ehealthModuleChanged(clientId: $c) { id status } }',
      { c: sanneId },
      'ehealthModuleChanged',
    );
    const rooms = t.app.services.live.rooms(EHEALTH_ROOMS);
    await until(() => (rooms.seats(karenId) === 1 && rooms.seats(sanneId) === 1 ? true : undefined), 3000, 'both seats');
    expect((await notify('', 'not-the-secret-at-all-000000000000')).status).toBe(401);

    // The module reports completion on the Task; Koppeltaal notifies without payload.
    const current = await fhir.repo.readResource<Task>('Task', karenTask.id!);
    await fhir.repo.updateResource<Task>({ ...current, status: 'completed', output: [{ type: { text: 'progress' }, valueInteger: 100 }] });
    expect((await notify()).status).toBe(200);
    expect(await seen.nth(1, 5000)).toEqual({ id: karenTask.id, status: 'COMPLETED', progress: 100 });
    // What reached the socket is in Karen's access log as a read.
    const lines = await t.app.services.audit.list(karenId, 50);
    expect(lines.some((l) => l.eventType === 'ehealth.modules.read' && l.resource.startsWith('eHealth-module (live)'))).toBe(true);
    // Sanne's parent, subscribed to Sanne: the re-read (everything changed since start) brings their own Task, never Karen's nor Sanne's own.
    await new Promise((r) => setTimeout(r, 200));
    expect(parentSeen.errors).toEqual([]);
    expect(parentSeen.events.map((e) => e.id)).toEqual([parentTask.id]);

    // An id-only notification (a Bundle naming the Task) is read the same way; nothing new is not pushed again.
    await notify(JSON.stringify({ resourceType: 'Bundle', type: 'history', entry: [{ fullUrl: `${fhir.baseUrl}/Task/${karenTask.id}` }] }));
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.events).toHaveLength(1);
  });

  it('answers ehealthModules null with UPSTREAM_UNAVAILABLE at its path when the Koppeltaal server is away, the rest of the screen with data', async () => {
    await fhir.stop();
    const karen = await t.login('client@demo.test');
    const { body } = await t.gql<{ client: { name: string; ehealthModules: unknown } }>(
      'query($c: ID!) { client(id: $c) { name ehealthModules { id } } }',
      { c: await clientIdOf(t, 'cl-karen') },
      karen,
    );
    expect(body.data!.client).toEqual({ name: 'Karen Test', ehealthModules: null });
    expect(body.errors?.[0]).toMatchObject({ path: ['client', 'ehealthModules'], extensions: { code: 'UPSTREAM_UNAVAILABLE' } });
    // The operator sees it: /readyz names the domain's last failure, /metrics counts the failed calls.
    const ready = (await (await fetch(`${t.base}/readyz`)).json()) as { koppeltaal?: { lastOkAt: string | null; lastFailure: { method: string } | null } };
    // (Karen's Patient is known from the screens before: the call that failed is the one for her Tasks.)
    expect(ready.koppeltaal).toMatchObject({ lastOkAt: expect.any(String), lastFailure: { method: 'listTasks' } });
    const metrics = await (await fetch(`${t.base}/metrics`)).text();
    expect(metrics).toMatch(/gateway_adapter_calls_total\{adapter="koppeltaal",method="listTasks",outcome="error"\} [1-9]/);
  });
});
