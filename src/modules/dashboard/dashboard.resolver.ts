import type { GraphQLResolveInfo } from 'graphql';
import { Ctx, FieldResolver, Info, Resolver, Root } from 'type-graphql';
import { selectsField } from '../../graphql/selection';
import { Action, authorize, mayReadConversation } from '../../auth/access';
import type { GatewayContext } from '../../graphql/context';
import { Appointment, AppointmentWindow } from '../appointments/appointment.types';
import { ActivityOverview, Dashboard } from '../clients/client.types';
import { readAudited } from '../dossier/dossier.resolver';
import { withPractitioners } from '../appointments/practitioners';
import { appointmentReads, readAgenda, stillBooked } from '../appointments/appointments.service';
import { dossierReads } from '../dossier/dossier.service';

@Resolver(() => Dashboard)
export class DashboardResolver {
  @FieldResolver(() => Appointment, { nullable: true })
  async nextAppointment(@Root() d: Dashboard, @Ctx() ctx: GatewayContext, @Info() info: GraphQLResolveInfo): Promise<Appointment | null> {
    const { can } = await authorize(ctx, d.clientId, Action.VIEW_PORTAL);
    if (!can.VIEW_AGENDA) return null;
    // The agenda as the agenda shows it (gated, in the access log); one the client called off is not next, also while the EHR has not taken it yet.
    const next = stillBooked(await readAgenda(ctx, d.clientId, AppointmentWindow.UPCOMING)).find((a) => Date.parse(a.start) > Date.now());
    if (!next) return null;
    // Unselected, `practitioner` is never read: no practitioner batch for it.
    return selectsField(info, 'practitioner') ? (await withPractitioners(ctx, [next]))[0] : (next as Appointment);
  }

  @FieldResolver(() => ActivityOverview, { description: "Since the viewer's previous login." })
  async activity(@Root() d: Dashboard, @Ctx() ctx: GatewayContext): Promise<ActivityOverview> {
    const grant = await authorize(ctx, d.clientId, Action.VIEW_PORTAL);
    const { can } = grant;
    const account = await ctx.account();
    const since = account.previousLoginAt;
    const after = (iso: string) => !since || Date.parse(iso) > since.getTime();
    const now = Date.now();
    const [documents, reports, appointments, newMessages, newDiaryEntries] = await Promise.all([
      can.VIEW_DOSSIER ? readAudited(ctx, d.clientId, 'dossier.documents.read', 'Documenten (lijst)', () => dossierReads.documents(ctx, d.clientId)) : [],
      can.VIEW_DOSSIER ? readAudited(ctx, d.clientId, 'dossier.reports.read', 'Verslaglegging', () => dossierReads.reports(ctx, d.clientId)) : [],
      can.VIEW_AGENDA ? appointmentReads.all(ctx, d.clientId, can.VIEW_ORGANISATION_AGENDA) : [],
      // A count only (no content), over the conversations this viewer may read.
      can.READ_MESSAGES
        ? ctx.services.messages.countNewSince(d.clientId, account.id, since, (c, refs) => mayReadConversation(grant, c.kind, refs.has(account.id)))
        : 0,
      // Entries the others wrote (the parents, the client), a count only.
      can.VIEW_JOURNAL ? ctx.services.journal.countNewSince(d.clientId, since, account.id) : 0,
    ]);
    return {
      since,
      newDocuments: documents.filter((x) => after(x.uploadedAt)).length,
      newReports: reports.filter((x) => after(x.date)).length,
      appointmentsHeld: appointments.filter((a) => Date.parse(a.end) < now && after(a.end)).length,
      newMessages,
      newDiaryEntries,
    };
  }
}
