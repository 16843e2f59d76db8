import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, FieldResolver, Info, Resolver, Root } from 'type-graphql';
import { Action, authorize } from '../../auth/access';
import type { GatewayContext } from '../../graphql/context';
import { selectsField } from '../../graphql/selection';
import { Client } from '../clients/client.types';
import { readAudited } from '../dossier/dossier.resolver';
import { dossierReads } from '../dossier/dossier.service';
import { SessionReport } from '../dossier/dossier.types';
import { Appointment, AppointmentWindow } from './appointment.types';
import { readAgenda } from './appointments.service';
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
