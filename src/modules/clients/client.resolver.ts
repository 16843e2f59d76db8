import { Arg, Args, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import type { AccessLogEntity } from '../../audit/access-log.entity';
import { fromCursor, ForwardPage, pageOf, pageSize, type ConnectionShape } from '../../graphql/connection';
import type { EhrClient } from '../../../adapters/ports';
import { Action, authorize } from '../../auth/access';
import { UNKNOWN_CLIENT_NAME, type GatewayContext } from '../../graphql/context';
import { BadUserInputError, NotFoundError } from '../../errors';
import type { AccessLogFilter } from '../../audit/access-log.service';
import { DateScalar } from '../../graphql/scalars';
import { AppointmentWindow } from '../appointments/appointment.types';
import { readAgenda, stillBooked } from '../appointments/appointments.service';
import { Dossier } from '../dossier/dossier.types';
import { dossierReads } from '../dossier/dossier.service';
import { readAudited } from '../dossier/dossier.resolver';
import { ACCESS_LOG_CODE, AccessLogConnection, AccessLogEntry, AccessLogFilterArgs, Client, Dashboard } from './client.types';

@Resolver(() => Client)
export class ClientResolver {
  @Query(() => Client, { nullable: true, description: "One client's portal. FORBIDDEN when the viewer has no relation to this client." })
  async client(@Arg('id', () => ID) id: string, @Ctx() ctx: GatewayContext): Promise<Client> {
    await authorize(ctx, id, Action.VIEW_PORTAL);
    return { id };
  }

  @FieldResolver(() => String)
  async name(@Root() c: Client, @Ctx() ctx: GatewayContext): Promise<string> {
    return (await this.profile(c, ctx)).name;
  }

  @FieldResolver(() => DateScalar, { nullable: true })
  async birthDate(@Root() c: Client, @Ctx() ctx: GatewayContext): Promise<string | null> {
    return (await this.profile(c, ctx)).birthDate ?? null;
  }

  @FieldResolver(() => Dashboard, { nullable: true })
  async dashboard(@Root() c: Client, @Ctx() ctx: GatewayContext): Promise<Dashboard> {
    const { can } = await authorize(ctx, c.id, Action.VIEW_PORTAL);
    // What the viewer may not see counts as nothing, not as a refusal of the whole dashboard.
    const [upcoming, parts] = await Promise.all([
      can.VIEW_AGENDA ? readAgenda(ctx, c.id, AppointmentWindow.UPCOMING) : Promise.resolve([]),
      can.VIEW_DOSSIER ? countDossierParts(ctx, c.id) : Promise.resolve(0),
    ]);
    return { id: c.id, clientId: c.id, upcomingAppointmentCount: stillBooked(upcoming).length, dossierPartCount: parts };
  }

  @FieldResolver(() => Dossier, { nullable: true })
  async dossier(@Root() c: Client, @Ctx() ctx: GatewayContext): Promise<Dossier> {
    await authorize(ctx, c.id, Action.VIEW_DOSSIER);
    return { id: c.id, clientId: c.id };
  }

  @FieldResolver(() => [AccessLogEntry], { nullable: true, description: "Who opened this dossier, when, and what (the client's right to see the access log)." })
  async accessLog(
    @Root() c: Client,
    @Arg('first', () => Int, { defaultValue: 50 }) first: number,
    @Args() filter: AccessLogFilterArgs,
    @Ctx() ctx: GatewayContext,
  ): Promise<AccessLogEntry[]> {
    await authorize(ctx, c.id, Action.VIEW_ACCESS_LOG);
    return presentAccessLog(ctx, c.id, await ctx.services.audit.list(c.id, pageSize(first, 'first'), undefined, accessLogFilter(filter)));
  }

  @FieldResolver(() => AccessLogConnection, { nullable: true, description: 'The access log page by page, newest first (Relay connection).' })
  async accessLogConnection(
    @Root() c: Client,
    @Args() page: ForwardPage,
    @Args() filter: AccessLogFilterArgs,
    @Ctx() ctx: GatewayContext,
  ): Promise<ConnectionShape<AccessLogEntry>> {
    await authorize(ctx, c.id, Action.VIEW_ACCESS_LOG);
    const size = pageSize(page.first, 'first');
    const after = page.after ? fromCursor(page.after, 'after') : undefined;
    const rows = await ctx.services.audit.list(c.id, size + 1, after ? { at: new Date(after.key), id: after.id } : undefined, accessLogFilter(filter));
    const entries = await presentAccessLog(ctx, c.id, rows);
    const byId = new Map(entries.map((e) => [e.id, e]));
    return pageOf(
      rows,
      size,
      (r) => ({ key: r.at.toISOString(), id: r.id }),
      (r) => byId.get(r.id)!,
      { backwards: false, from: !!after },
    );
  }

  /** The client's name and birth date from the EHR, with one access-log line per request however many fields ask. */
  private profile(c: Client, ctx: GatewayContext): Promise<EhrClient> {
    return ctx.once(`client-profile:${c.id}`, async () => {
      const { access } = await authorize(ctx, c.id, Action.VIEW_PORTAL);
      const askedAt = new Date();
      const [client] = await Promise.all([
        ctx.ehr
          .first(c.id, 'getClient', (a, id, actx) => a.getClient(id, actx))
          .catch(async (err: unknown) => {
            // No EHR answers: the name it gave last time, so the rest of the screen still answers (birth date unknown).
            const name = await ctx.services.clients.storedName(c.id);
            if (name === null) throw err;
            return { externalId: '', name, birthDate: null, source: '' };
          }),
        ctx.audit({ action: 'R', eventType: 'client.profile.read', resource: 'Naam en geboortedatum', clientId: c.id, treatmentRelationship: true }, access),
      ]);
      if (!client) throw new NotFoundError('No care organisation knows this client any more.');
      if (client.source) await ctx.services.clients.rememberName(c.id, client.name);
      if (client.source && 'inTreatment' in client && client.inTreatment !== undefined)
        await ctx.services.clients.rememberTreatmentEnd(c.id, client.source, client.inTreatment ? null : (client.treatmentEndedAt ?? null), askedAt);
      return client;
    });
  }
}

/** How many dossier parts hold something for this client (the dashboard's "dossier parts"). */
async function countDossierParts(ctx: GatewayContext, clientId: string): Promise<number> {
  const parts = await readAudited(ctx, clientId, 'dossier.summary.read', 'Dossier (aantallen)', () =>
    Promise.all([
      dossierReads.overview(ctx, clientId),
      dossierReads.intakeReport(ctx, clientId),
      dossierReads.medications(ctx, clientId),
      dossierReads.allergies(ctx, clientId),
      dossierReads.contraIndications(ctx, clientId),
      dossierReads.treatmentPlan(ctx, clientId),
      dossierReads.treatmentTeam(ctx, clientId),
      dossierReads.reports(ctx, clientId),
      dossierReads.documents(ctx, clientId),
    ]),
  );
  return parts.filter((p) => (Array.isArray(p) ? p.length > 0 : p !== null)).length;
}

/** Access-log lines as the client reads them. Lines written before the log named the person kept the client's id: shown by name too. */
async function presentAccessLog(ctx: GatewayContext, clientId: string, rows: AccessLogEntity[]): Promise<AccessLogEntry[]> {
  const legacy = rows.some((r) => r.onBehalfOf?.startsWith('client:'));
  const clientName = legacy ? ((await ctx.profile(clientId))?.name ?? UNKNOWN_CLIENT_NAME) : null;
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    actor: r.actorName,
    actorRole: r.actorRole,
    action: ({ C: 'create', R: 'read', U: 'update', D: 'delete', E: 'execute' } as const)[r.action],
    resource: r.resource,
    onBehalfOf: r.onBehalfOf?.startsWith('client:') ? clientName : r.onBehalfOf,
    emergencyAccess: r.emergencyAccess,
    eventType: r.eventType,
    consentApplied: r.consentApplied,
  }));
}

/** The filter arguments checked: a period that ends after it starts, at most 10 kinds, each an event-type word. */
function accessLogFilter(args: AccessLogFilterArgs): AccessLogFilter {
  if (args.from && args.to && args.from >= args.to) throw new BadUserInputError('`to` must be later than `from`.', { argument: 'to' });
  const kinds = args.dataKinds ?? [];
  if (kinds.length > 10) throw new BadUserInputError('At most 10 dataKinds.', { argument: 'dataKinds' });
  const wrong = kinds.find((k) => !/^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)*$/.test(k) || k.length > 80);
  if (wrong !== undefined)
    throw new BadUserInputError(`Not a kind of data: '${wrong.slice(0, 80)}' (e.g. dossier, dossier.medications).`, { argument: 'dataKinds' });
  return { from: args.from, to: args.to, actions: args.actions?.map((a) => ACCESS_LOG_CODE[a]), dataKinds: kinds };
}
