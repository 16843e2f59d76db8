import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, FieldResolver, ID, Info, Mutation, Resolver, Root } from 'type-graphql';
import { Action, authorize } from '../../auth/access';
import type { GatewayContext } from '../../graphql/context';
import { selectsField } from '../../graphql/selection';
import { Client } from '../clients/client.types';
import { readAudited } from '../dossier/dossier.resolver';
import { dossierReads } from '../dossier/dossier.service';
import { SessionReport } from '../dossier/dossier.types';
import { Appointment, AppointmentWindow } from './appointment.types';
import { appointmentReads, readAgenda } from './appointments.service';
import { BadUserInputError, ForbiddenError, NotAvailableError, NotFoundError } from '../../errors';
import { actor, locateInDossiers, openWrites } from '../ehr/client-items';
import { parseGlobalId } from '../ehr/global-id';
import { withPractitioners } from './practitioners';

@Resolver(() => Client)
export class ClientAppointmentsResolver {
  @FieldResolver(() => [Appointment], { nullable: true })
  async appointments(
    @Root() c: Client,
    @Arg('when', () => AppointmentWindow, { defaultValue: AppointmentWindow.UPCOMING }) when: AppointmentWindow,
    @Ctx() ctx: GatewayContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Appointment[]> {
    const list = await readAgenda(ctx, c.id, when);
    // Unselected, `practitioner` is never read: no practitioner batch for a list without them.
    return selectsField(info, 'practitioner') ? withPractitioners(ctx, list) : (list as Appointment[]);
  }
}

// `@Root() x: Readonly<T>` (not `T`) on list items: with a class type type-graphql copies every
// item into a new instance of that class before each field resolver runs.
@Resolver(() => Appointment)
export class AppointmentResolver {
  @FieldResolver(() => SessionReport, { nullable: true, description: 'Past appointments may link to their report (needs DOSSIER_VIEW).' })
  async report(@Root() a: Readonly<Appointment>, @Ctx() ctx: GatewayContext): Promise<SessionReport | null> {
    if (!a.reportId) return null;
    const { can } = await authorize(ctx, a.clientId, Action.VIEW_PORTAL);
    if (!can.VIEW_DOSSIER) return null;
    const reports = await readAudited(ctx, a.clientId, 'dossier.reports.read', 'Verslaglegging', () => dossierReads.reports(ctx, a.clientId));
    return reports.find((r) => r.id === a.reportId) ?? null;
  }
}

/** At most this many characters of reason with a cancellation. */
export const REASON_MAX = 500;

@Resolver()
export class AgendaMutationResolver {
  /**
   * Calls off an upcoming appointment (Caren's agenda management): the client, a parent or
   * representative, or a network member with AGENDA_MANAGE (MANAGE_AGENDA), where the care
   * organisation's system allows it (FORBIDDEN with reason NOT_CANCELLABLE where it does not: too
   * late, already held, the organisation's own). Looked for among the agendas the viewer may see.
   */
  @Mutation(() => Boolean, { description: 'Calls off an upcoming appointment where the care organisation allows it.' })
  async cancelAppointment(
    @Arg('appointmentId', () => ID) appointmentId: string,
    @Arg('reason', () => String, { nullable: true }) reason: string | null | undefined,
    @Ctx() ctx: GatewayContext,
  ): Promise<boolean> {
    const { clientId, item, source } = await locateInDossiers(
      ctx,
      appointmentId,
      'appointment',
      Action.MANAGE_AGENDA,
      async (id) => [...(await appointmentReads.all(ctx, id, false))],
      Action.VIEW_AGENDA,
    );
    const { access } = await authorize(ctx, clientId, Action.MANAGE_AGENDA);
    const why = reason?.trim() || null;
    if (why && [...why].length > REASON_MAX)
      throw new BadUserInputError(`The reason is at most ${REASON_MAX} characters.`, { field: 'reason', limit: REASON_MAX });
    if (typeof ctx.services.registry.adapter(source)?.cancelAppointment !== 'function')
      throw new NotAvailableError('Calling off appointments at this care organisation');
    // Called off already and on its way: the same answer, no second write.
    if ((await openWrites(ctx, clientId, 'cancelAppointment')).has(item.id)) return true;
    const externalClientId = (await ctx.ehr.clientSources(clientId)).find((s) => s.source === source)!.externalId;
    const cancellation = { appointmentId: parseGlobalId(item.id)!.externalId, reason: why, by: await actor(ctx, access), at: new Date().toISOString() };
    // Through the EHR write outbox: tried at once; while the EHR is away it is kept, retried, and
    // the agenda shows the appointment as called off (cancelledAt, syncStatus PENDING).
    const write = await ctx.services.ehrWrites.enqueueAlone({
      clientId,
      source,
      externalClientId,
      method: 'cancelAppointment',
      subject: item.id,
      input: cancellation,
    });
    const outcome = await ctx.services.ehrWrites.tryNow(write);
    if (outcome.state === 'refused') {
      if (outcome.refusal === 'NOT_FOUND') throw new NotFoundError('No such appointment.');
      throw new ForbiddenError(`The care organisation does not allow this: ${outcome.reason}`, { reason: 'NOT_CANCELLABLE' });
    }
    await ctx.audit(
      { action: 'U', eventType: 'agenda.appointment.cancel', resource: `Afspraak afgezegd: ${item.type}`, clientId, treatmentRelationship: true },
      access,
    );
    if (outcome.state === 'delivered') await ctx.ehr.forget(clientId, source, 'listAppointments');
    return true;
  }
}
