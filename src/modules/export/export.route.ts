import { Action, decide, mayReadConversation } from '../../auth/access';
import { AppError, ErrorCode, HTTP_STATUS } from '../../errors';
import { createContext, type GatewayContext } from '../../graphql/context';
import { bearerToken, clientIp, sendError, sendRefusal } from '../../http/io';
import type { RouteHandlers } from '../../http/routes';
import type { Logger } from '../../observability/logger';
import type { Services } from '../../services';
import { appointmentReads } from '../appointments/appointments.service';
import { practitionerOrPlaceholder } from '../appointments/practitioners';
import { dossierReads } from '../dossier/dossier.service';
import { ConversationFolder } from '../messages/message.types';
import type { MessageEntity } from '../messages/message.entity';
import { dossierBundle, type ExportInput } from './fhir-export';

/**
 * GET /export?clientId=…: the client's dossier as a FHIR R4 Bundle to download (AVG art. 20),
 * for a session that may see the dossier (VIEW_DOSSIER: the client, the parents with authority,
 * a representative, a network member with DOSSIER_VIEW). Each further part is in it only as the
 * viewer may see it (the agenda, the conversations whose kind they may read, the diary and story).
 * An EHR that does not answer makes it 503 (an export that silently lacks a part would mislead);
 * an export handed out is in the access log as an export (E).
 */
export function exportRoutes(services: Services, logger: Logger): RouteHandlers {
  return {
    dossier_export: async (req, res, url, requestId) => {
      const startedAt = Date.now();
      if (req.method !== 'GET') return sendError(res, 405, ErrorCode.BAD_USER_INPUT, 'Use GET /export?clientId=…', { allow: 'GET' });
      const clientId = url.searchParams.get('clientId');
      if (!clientId) return sendError(res, 400, ErrorCode.BAD_USER_INPUT, 'Say whose dossier: GET /export?clientId=<Client.id>.');
      const token = bearerToken(req, services.cookies);
      const viewer = token ? await services.sessions.authenticate(token).catch(() => null) : null;
      if (!viewer) return sendError(res, 401, ErrorCode.UNAUTHENTICATED, 'Log in first: the export needs a session.');
      const ctx = createContext({ services, logger, requestId, ip: clientIp(req, services.config.TRUST_PROXY), viewer, startedAt });
      const grant = await decide(ctx, clientId, Action.VIEW_DOSSIER);
      if (!('access' in grant)) {
        if (grant.extensions.code === ErrorCode.UNAUTHENTICATED) return sendError(res, 401, ErrorCode.UNAUTHENTICATED, grant.message);
        return sendRefusal(res, grant, 'You may not export this dossier.');
      }
      let input: ExportInput;
      try {
        input = await collect(ctx, clientId);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        const status = err.code === ErrorCode.UPSTREAM_UNAVAILABLE ? 503 : HTTP_STATUS[err.code];
        return sendError(res, status, err.code, err.message, status === 503 ? { 'retry-after': '60' } : {});
      }
      if (ctx.partialFailures.length)
        return sendError(
          res,
          503,
          ErrorCode.UPSTREAM_UNAVAILABLE,
          'A care organisation’s system did not answer; the export would be incomplete. Try again later.',
          {
            'retry-after': '60',
          },
        );
      const body = JSON.stringify(dossierBundle(input), null, 2);
      // Logged once it is whole and about to leave: the log says what was handed out.
      await ctx.audit(
        { action: 'E', eventType: 'dossier.export', resource: 'Export van het dossier (FHIR)', clientId, treatmentRelationship: true },
        grant.access,
      );
      res.writeHead(200, {
        'content-type': 'application/fhir+json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'content-disposition': `attachment; filename="dossier-${input.exportedAt.slice(0, 10)}.json"`,
        'cache-control': 'no-store',
      });
      res.end(body);
    },
  };
}

/** Every part the viewer may see, read through the request's EHR reader (one practitioner batch). */
async function collect(ctx: GatewayContext, clientId: string): Promise<ExportInput> {
  const [agenda, messages, journal] = await Promise.all([
    decide(ctx, clientId, Action.VIEW_AGENDA),
    decide(ctx, clientId, Action.READ_MESSAGES),
    decide(ctx, clientId, Action.VIEW_JOURNAL),
  ]);
  const account = await ctx.account();
  const [profile, overview, medications, allergies, contraIndications, plan, team, documents, reports, appointments, conversations, diary, story] =
    await Promise.all([
      ctx.profile(clientId),
      dossierReads.overview(ctx, clientId),
      dossierReads.medications(ctx, clientId),
      dossierReads.allergies(ctx, clientId),
      dossierReads.contraIndications(ctx, clientId),
      dossierReads.treatmentPlan(ctx, clientId),
      dossierReads.treatmentTeam(ctx, clientId),
      dossierReads.documents(ctx, clientId),
      dossierReads.reports(ctx, clientId),
      'access' in agenda ? appointmentReads.all(ctx, clientId, agenda.can.VIEW_ORGANISATION_AGENDA) : undefined,
      'access' in messages
        ? ctx.services.messages.list(clientId, account.id, ConversationFolder.ALL, (c, refs) => mayReadConversation(messages, c.kind, refs.has(account.id)))
        : undefined,
      'access' in journal ? ctx.services.journal.diary(clientId) : undefined,
      'access' in journal ? ctx.services.journal.story(clientId) : undefined,
    ]);
  const people = [...team.map((m) => m.practitionerId), ...(appointments ?? []).map((a) => a.practitionerId), ...reports.flatMap((r) => r.authorId ?? [])];
  await ctx.ehr.prefetchPractitioners(people);
  const name = async (id: string) => (await practitionerOrPlaceholder(ctx, id)).name;
  // The name the EHR last gave, should its profile not answer now.
  const client = profile ? null : await ctx.services.clients.storedName(clientId);
  return {
    exportedAt: new Date().toISOString(),
    base: ctx.services.origins.absolute('/export/fhir'),
    patient: { name: profile?.name ?? client ?? 'Cliënt', birthDate: profile?.birthDate ?? null, gender: profile?.gender ?? null },
    overview,
    medications,
    allergies,
    contraIndications,
    plan,
    team: await Promise.all(
      team.map(async (m) => {
        const practitioner = await practitionerOrPlaceholder(ctx, m.practitionerId);
        return { name: practitioner.name, profession: practitioner.profession, role: m.role, from: m.from, until: m.until };
      }),
    ),
    documents,
    reports: await Promise.all(reports.map(async (r) => ({ title: r.title, date: r.date, body: r.body, author: r.authorId ? await name(r.authorId) : null }))),
    appointments:
      appointments &&
      (await Promise.all(
        appointments.map(async (a) => ({
          start: a.start,
          end: a.end,
          type: a.type,
          practitioner: await name(a.practitionerId),
          location: a.location,
          online: a.online,
        })),
      )),
    conversations: conversations && exportedConversations(conversations, await ctx.services.messages.messagesOf(conversations.map((c) => c.id))),
    diary: diary?.map((e) => ({ text: e.text, author: e.authorName, createdAt: e.createdAt.toISOString() })),
    story: story ? { text: story.text, updatedAt: story.updatedAt.toISOString() } : null,
  };
}

function exportedConversations(conversations: readonly { id: string; subject: string }[], messages: Map<string, MessageEntity[]>) {
  return conversations.map((c) => ({
    subject: c.subject,
    messages: (messages.get(c.id) ?? []).map((m) => ({ author: m.authorName, sentAt: m.sentAt.toISOString(), body: m.deletedAt ? null : m.body })),
  }));
}
