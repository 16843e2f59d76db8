import type { EhrAppointment } from '../../../adapters/ports';
import type { GatewayContext } from '../../graphql/context';
import { type AppointmentRecord, AppointmentWindow } from '../appointments/appointment.types';
import { globalId } from '../ehr/global-id';
import {
  Allergy,
  ContraIndication,
  Document,
  DossierOverview,
  IntakeReport,
  Medication,
  SessionReport,
  TeamMember,
  TeamRole,
  TreatmentEffort,
  TreatmentPlan,
  TreatmentPlanStatus,
} from './dossier.types';

/**
 * Reads the dossier parts of one client through the request's EHR reader and maps them to the
 * contract's types. Authorisation and the access log are the resolvers' job; this only reads.
 */
export const dossierReads = {
  async overview(ctx: GatewayContext, clientId: string): Promise<DossierOverview | null> {
    return ctx.ehr.first(clientId, 'getDossierOverview', (a, id, c) => a.getDossierOverview(id, c));
  },

  async intakeReport(ctx: GatewayContext, clientId: string): Promise<IntakeReport | null> {
    return ctx.ehr.first(clientId, 'getIntakeReport', (a, id, c) => a.getIntakeReport(id, c));
  },

  async medications(ctx: GatewayContext, clientId: string): Promise<Medication[]> {
    const list = await ctx.ehr.collect(clientId, 'listMedications', (a, id, c) => a.listMedications(id, c));
    return list.map((m) => ({
      id: globalId(m.source, m.externalId),
      name: m.name,
      dosage: m.dosage,
      since: m.since,
      until: m.until,
      source: m.source,
      prescriberId: m.prescriberId ? globalId(m.source, m.prescriberId) : null,
    }));
  },

  async allergies(ctx: GatewayContext, clientId: string): Promise<Allergy[]> {
    const list = await ctx.ehr.collect(clientId, 'listAllergies', (a, id, c) => a.listAllergies(id, c));
    return list.map((x) => ({ id: globalId(x.source, x.externalId), substance: x.substance, reaction: x.reaction, recordedAt: x.recordedAt, source: x.source }));
  },

  async contraIndications(ctx: GatewayContext, clientId: string): Promise<ContraIndication[]> {
    const list = await ctx.ehr.collect(clientId, 'listContraIndications', (a, id, c) => a.listContraIndications(id, c));
    return list.map((x) => ({ id: globalId(x.source, x.externalId), description: x.description, recordedAt: x.recordedAt, source: x.source }));
  },

  async treatmentPlan(ctx: GatewayContext, clientId: string): Promise<TreatmentPlan | null> {
    const plan = await ctx.ehr.first(clientId, 'getTreatmentPlan', (a, id, c) => a.getTreatmentPlan(id, c));
    if (!plan) return null;
    return {
      id: globalId(plan.source, plan.externalId),
      status: plan.status as TreatmentPlanStatus,
      careQuestion: plan.careQuestion,
      problemDescription: plan.problemDescription,
      indication: plan.indication,
      explanation: plan.explanation,
      goals: plan.goals.map((g) => ({ id: globalId(plan.source, g.externalId), description: g.description, addedBy: g.addedBy })),
      createdAt: plan.createdAt,
      finalisedAt: plan.finalisedAt,
      approvedAt: plan.approvedAt,
      approvedBy: plan.approvedBy,
      source: plan.source,
      responsiblePractitionerIds: plan.responsiblePractitionerIds.map((p) => globalId(plan.source, p)),
    };
  },

  async treatmentTeam(ctx: GatewayContext, clientId: string): Promise<TeamMember[]> {
    const today = new Date().toISOString().slice(0, 10);
    const list = await ctx.ehr.collect(clientId, 'listTreatmentTeam', (a, id, c) => a.listTreatmentTeam(id, c));
    return list.map((m) => ({
      role: m.role as TeamRole,
      from: m.from,
      until: m.until,
      active: m.from <= today && (!m.until || m.until >= today),
      source: m.source,
      practitionerId: globalId(m.source, m.practitionerId),
    }));
  },

  async treatmentEffort(ctx: GatewayContext, clientId: string): Promise<TreatmentEffort> {
    const list = await ctx.ehr.collect(clientId, 'getTreatmentEffort', async (a, id, c) => {
      const effort = await a.getTreatmentEffort(id, c);
      return effort ? [effort] : [];
    });
    const activities = byTime(
      list.flatMap((e) => e.activities.map((x) => ({ ...x, practitionerId: globalId(e.source, x.practitionerId) }))),
      (a) => a.date,
      'desc',
    );
    return {
      plannedMinutes: list.reduce((sum, e) => sum + e.plannedMinutes, 0),
      realisedMinutes: activities.reduce((sum, x) => sum + x.minutes, 0),
      activities,
    };
  },

  async reports(ctx: GatewayContext, clientId: string): Promise<SessionReport[]> {
    const list = await ctx.ehr.collect(clientId, 'listSessionReports', (a, id, c) => a.listSessionReports(id, c));
    const reports = list.map((r) => ({
        id: globalId(r.source, r.externalId),
        date: r.date,
        title: r.title,
        body: r.body,
        needsApproval: r.needsApproval,
        approvedAt: r.approvedAt,
        source: r.source,
        authorId: r.authorId ? globalId(r.source, r.authorId) : null,
      }));
    return byTime(reports, (r) => r.date, 'desc');
  },

  async documents(ctx: GatewayContext, clientId: string): Promise<Document[]> {
    const list = await ctx.ehr.collect(clientId, 'listDocuments', (a, id, c) => a.listDocuments(id, c));
    const documents = list.map((d) => ({
        id: globalId(d.source, d.externalId),
        name: d.name,
        mediaType: d.mediaType,
        uploadedBy: d.uploadedBy,
        uploadedAt: d.uploadedAt,
        needsApproval: d.needsApproval,
        approvedAt: d.approvedAt,
        source: d.source,
        clientId,
        externalId: d.externalId,
      }));
    return byTime(documents, (d) => d.uploadedAt, 'desc');
  },

  /** All appointments of the client (every source), the window applied by the caller. */
  async appointments(ctx: GatewayContext, clientId: string, includeOrganisationOnly: boolean): Promise<AppointmentRecord[]> {
    const list = await ctx.ehr.collect(clientId, 'listAppointments', (a, id, c) => a.listAppointments(id, {}, c));
    return list.filter((a) => includeOrganisationOnly || !a.organisationOnly).map((a) => toAppointment(clientId, a));
  },
};

function toAppointment(clientId: string, a: EhrAppointment & { source: string }): AppointmentRecord {
  return {
    id: globalId(a.source, a.externalId),
    start: a.start,
    end: a.end,
    type: a.type,
    location: a.location,
    online: a.online,
    source: a.source,
    clientId,
    practitionerId: globalId(a.source, a.practitionerId),
    reportId: a.reportId ? globalId(a.source, a.reportId) : null,
  };
}

/** Applies a window to appointments: upcoming soonest first, past latest first. */
export function inWindow<T extends AppointmentRecord>(list: T[], window: AppointmentWindow, now = Date.now()): T[] {
  if (window === AppointmentWindow.UPCOMING) return byTime(list.filter((a) => Date.parse(a.end) >= now), (a) => a.start, 'asc');
  if (window === AppointmentWindow.PAST) return byTime(list.filter((a) => Date.parse(a.end) < now), (a) => a.start, 'desc');
  return byTime(list, (a) => a.start, 'asc');
}

/**
 * Sorts by an ISO date or time, each parsed once (so offsets compare correctly). String
 * localeCompare, used before, took about a millisecond for a hundred appointments.
 */
export function byTime<T>(list: readonly T[], time: (item: T) => string, order: 'asc' | 'desc'): T[] {
  const sign = order === 'asc' ? 1 : -1;
  return list
    .map((item) => ({ item, at: Date.parse(time(item)) || 0 }))
    .sort((a, b) => sign * (a.at - b.at))
    .map((x) => x.item);
}
