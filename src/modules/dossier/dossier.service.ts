import type { EhrAppointment } from '../../../adapters/ports';
import type { GatewayContext } from '../../graphql/context';
import { Appointment, AppointmentWindow } from '../appointments/appointment.types';
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
    const activities = list.flatMap((e) => e.activities.map((x) => ({ ...x, practitionerId: globalId(e.source, x.practitionerId) })));
    activities.sort((a, b) => b.date.localeCompare(a.date));
    return {
      plannedMinutes: list.reduce((sum, e) => sum + e.plannedMinutes, 0),
      realisedMinutes: activities.reduce((sum, x) => sum + x.minutes, 0),
      activities,
    };
  },

  async reports(ctx: GatewayContext, clientId: string): Promise<SessionReport[]> {
    const list = await ctx.ehr.collect(clientId, 'listSessionReports', (a, id, c) => a.listSessionReports(id, c));
    return list
      .map((r) => ({
        id: globalId(r.source, r.externalId),
        date: r.date,
        title: r.title,
        body: r.body,
        needsApproval: r.needsApproval,
        approvedAt: r.approvedAt,
        source: r.source,
        authorId: r.authorId ? globalId(r.source, r.authorId) : null,
      }))
      .sort((a, b) => b.date.localeCompare(a.date));
  },

  async documents(ctx: GatewayContext, clientId: string): Promise<Document[]> {
    const list = await ctx.ehr.collect(clientId, 'listDocuments', (a, id, c) => a.listDocuments(id, c));
    return list
      .map((d) => ({
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
      }))
      .sort((a, b) => b.uploadedAt.localeCompare(a.uploadedAt));
  },

  /** All appointments of the client (every source), the window applied by the caller. */
  async appointments(ctx: GatewayContext, clientId: string, includeOrganisationOnly: boolean): Promise<Appointment[]> {
    const list = await ctx.ehr.collect(clientId, 'listAppointments', (a, id, c) => a.listAppointments(id, {}, c));
    return list.filter((a) => includeOrganisationOnly || !a.organisationOnly).map((a) => toAppointment(clientId, a));
  },
};

function toAppointment(clientId: string, a: EhrAppointment & { source: string }): Appointment {
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
export function inWindow(list: Appointment[], window: AppointmentWindow, now = Date.now()): Appointment[] {
  if (window === AppointmentWindow.UPCOMING) return list.filter((a) => Date.parse(a.end) >= now).sort((a, b) => a.start.localeCompare(b.start));
  if (window === AppointmentWindow.PAST) return list.filter((a) => Date.parse(a.end) < now).sort((a, b) => b.start.localeCompare(a.start));
  return [...list].sort((a, b) => a.start.localeCompare(b.start));
}
