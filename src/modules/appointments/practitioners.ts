import type { EhrPractitioner } from '../../../adapters/ports';
import type { GatewayContext } from '../../graphql/context';
import type { Sourced } from '../ehr/ehr.service';
import type { Appointment, AppointmentRecord, Practitioner } from './appointment.types';

/** A practitioner the EHR does not (or no longer) know still shows as someone, not as an error. */
export function practitionerOrPlaceholder(ctx: GatewayContext, id: string): Practitioner | Promise<Practitioner> {
  const present = (found: Sourced<EhrPractitioner> | null): Practitioner =>
    found ? toPractitioner(found) : { id, name: 'Onbekende behandelaar', profession: null, phone: null, email: null };
  // Already loaded in this request (a prefetched batch): answer without a promise per field.
  const loaded = ctx.ehr.practitionerIfLoaded(id);
  return loaded !== undefined ? present(loaded) : ctx.ehr.practitioner(id).then(present);
}

/**
 * Appointments with their practitioners, all from one batch; the field is then a plain property,
 * so a list of a hundred costs no resolver call per item.
 */
export async function withPractitioners(ctx: GatewayContext, list: readonly AppointmentRecord[]): Promise<Appointment[]> {
  await ctx.ehr.prefetchPractitioners(list.map((a) => a.practitionerId));
  // After the batch every answer is at hand; only a practitioner the batch failed on is a promise.
  const people = list.map((a) => practitionerOrPlaceholder(ctx, a.practitionerId));
  const present = people.some((p) => p instanceof Promise) ? await Promise.all(people.map((p) => Promise.resolve(p))) : (people as Practitioner[]);
  return list.map((a, i) => withPractitioner(a, present[i]));
}

/**
 * The appointment as served: one object literal (a copy with an added property costs V8 two
 * objects and a slower shape), typed so that a field added to Appointment cannot be left out here.
 */
function withPractitioner(a: AppointmentRecord, practitioner: Practitioner): Appointment {
  const served: { [K in keyof Required<Appointment>]: Appointment[K] } = {
    id: a.id,
    start: a.start,
    end: a.end,
    type: a.type,
    practitioner,
    location: a.location,
    online: a.online,
    source: a.source,
    cancelledAt: a.cancelledAt ?? null,
    syncStatus: a.syncStatus ?? null,
    clientId: a.clientId,
    practitionerId: a.practitionerId,
    reportId: a.reportId,
    organisationOnly: a.organisationOnly,
  };
  return served;
}

export function toPractitioner(p: Sourced<EhrPractitioner>): Practitioner {
  return { id: `${p.source}:${p.externalId}`, name: p.name, profession: p.profession, phone: p.phone, email: p.email };
}
