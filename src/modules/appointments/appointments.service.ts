import type { EhrAppointment } from '../../../adapters/ports';
import { Action, authorize } from '../../auth/access';
import type { GatewayContext } from '../../graphql/context';
import { openWrites, syncStatusOf } from '../ehr/client-items';
import type { OpenWrite } from '../ehr/ehr-writes';
import { globalId } from '../ehr/global-id';
import { byTime } from '../ehr/time-order';
import { type AppointmentRecord, AppointmentWindow } from './appointment.types';

/** Reads a client's appointments through the request's EHR reader; authorisation and the access log are the resolvers' job. */
export const appointmentReads = {
  /**
   * All appointments of the client (every source), the window applied by the caller. The list is
   * the request's own (shared by the dashboard and the agenda in one query): do not change it.
   */
  async all(ctx: GatewayContext, clientId: string, includeOrganisationOnly: boolean): Promise<readonly AppointmentRecord[]> {
    const list = await ctx.ehr.collect(
      clientId,
      'listAppointments',
      (a, id, c) => a.listAppointments(id, {}, c),
      (a, source) => toAppointment(clientId, a, source),
    );
    return includeOrganisationOnly ? list : list.filter((a) => !a.organisationOnly);
  },
};

function toAppointment(clientId: string, a: EhrAppointment, source: string): AppointmentRecord {
  return {
    id: globalId(source, a.externalId),
    start: a.start,
    end: a.end,
    type: a.type,
    location: a.location,
    online: a.online,
    source,
    cancelledAt: null,
    syncStatus: null,
    clientId,
    practitionerId: globalId(source, a.practitionerId),
    reportId: a.reportId ? globalId(source, a.reportId) : null,
    organisationOnly: a.organisationOnly === true,
  };
}

/** Applies a window to appointments: upcoming soonest first, past latest first. */
export function inWindow<T extends AppointmentRecord>(list: readonly T[], window: AppointmentWindow, now = Date.now()): T[] {
  if (window === AppointmentWindow.UPCOMING)
    return byTime(
      list.filter((a) => Date.parse(a.end) >= now),
      (a) => a.start,
      'asc',
    );
  if (window === AppointmentWindow.PAST)
    return byTime(
      list.filter((a) => Date.parse(a.end) < now),
      (a) => a.start,
      'desc',
    );
  return byTime(list, (a) => a.start, 'asc');
}

/**
 * The agenda a viewer may see, in a window: VIEW_AGENDA by the gate, the organisation's own
 * appointments only with VIEW_ORGANISATION_AGENDA, and the read in the access log before it leaves.
 */
export async function readAgenda(ctx: GatewayContext, clientId: string, when: AppointmentWindow): Promise<AppointmentRecord[]> {
  const { access, can } = await authorize(ctx, clientId, Action.VIEW_AGENDA);
  const [list, waiting] = await Promise.all([
    appointmentReads.all(ctx, clientId, can.VIEW_ORGANISATION_AGENDA),
    openWrites(ctx, clientId, 'cancelAppointment'),
    // One line per request and client, however many parts (the agenda, the dashboard's count and next appointment) show it.
    ctx.once(`agenda.read:${clientId}`, () =>
      ctx.audit({ action: 'R', eventType: 'agenda.read', resource: 'Afspraken', clientId, treatmentRelationship: true }, access),
    ),
  ]);
  return inWindow(withPendingCancellations(list, waiting), when);
}

/**
 * Appointments as the client sees them: one called off in the portal and not yet taken by the EHR
 * stays listed, with `cancelledAt` and `syncStatus` PENDING (FAILED once a dead letter), so a read
 * right after it does not show it as still booked. Once the EHR took it, the EHR's list has it no more.
 */
export function withPendingCancellations<T extends AppointmentRecord>(list: readonly T[], waiting: Map<string, OpenWrite>): T[] {
  if (!waiting.size) return list as T[];
  return list.map((a) => {
    const w = waiting.get(a.id);
    return w ? { ...a, cancelledAt: w.at ?? new Date().toISOString(), syncStatus: syncStatusOf(w.status) } : a;
  });
}

/** The appointments of a list still booked (none called off in the portal). */
export const stillBooked = <T extends AppointmentRecord>(list: readonly T[]): T[] => list.filter((a) => !a.cancelledAt);
