import type { GatewayContext } from '../../graphql/context';
import { globalId } from '../ehr/global-id';
import { byTime } from '../ehr/time-order';
import {
  Allergy,
  ContraIndication,
  Insurance,
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
import { dutchDate } from '../../../adapters/ports';

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
    return ctx.ehr.collect(
      clientId,
      'listMedications',
      (a, id, c) => a.listMedications(id, c),
      (m, source) => ({
        id: globalId(source, m.externalId),
        name: m.name,
        dosage: m.dosage,
        since: m.since,
        until: m.until,
        source,
        prescriberId: m.prescriberId ? globalId(source, m.prescriberId) : null,
      }),
    );
  },

  async allergies(ctx: GatewayContext, clientId: string): Promise<Allergy[]> {
    return ctx.ehr.collect(
      clientId,
      'listAllergies',
      (a, id, c) => a.listAllergies(id, c),
      (x, source) => ({
        id: globalId(source, x.externalId),
        substance: x.substance,
        reaction: x.reaction,
        recordedAt: x.recordedAt,
        source,
      }),
    );
  },

  async insurance(ctx: GatewayContext, clientId: string): Promise<Insurance[]> {
    return ctx.ehr.collect(
      clientId,
      'listInsurance',
      (a, id, c) => (a.listInsurance ? a.listInsurance(id, c) : Promise.resolve([])),
      (x, source) => ({ id: globalId(source, x.externalId), insurer: x.insurer, policyNumber: x.policyNumber, from: x.from, until: x.until, source }),
    );
  },

  async contraIndications(ctx: GatewayContext, clientId: string): Promise<ContraIndication[]> {
    return ctx.ehr.collect(
      clientId,
      'listContraIndications',
      (a, id, c) => a.listContraIndications(id, c),
      (x, source) => ({
        id: globalId(source, x.externalId),
        description: x.description,
        recordedAt: x.recordedAt,
        source,
      }),
    );
  },

  async treatmentPlan(ctx: GatewayContext, clientId: string): Promise<TreatmentPlan | null> {
    const plan = await ctx.ehr.first(clientId, 'getTreatmentPlan', (a, id, c) => a.getTreatmentPlan(id, c));
    if (!plan) return null;
    const approved = plan.status === 'APPROVED' || Boolean(plan.approvedAt);
    return {
      id: globalId(plan.source, plan.externalId),
      status: plan.status as TreatmentPlanStatus,
      careQuestion: plan.careQuestion,
      problemDescription: plan.problemDescription,
      indication: plan.indication,
      explanation: plan.explanation,
      goals: plan.goals.map((g) => ({
        id: globalId(plan.source, g.externalId),
        description: g.description,
        addedBy: g.addedBy,
        removable: Boolean(g.byClient) && !approved,
      })),
      createdAt: plan.createdAt,
      finalisedAt: plan.finalisedAt,
      approvedAt: plan.approvedAt,
      approvedBy: plan.approvedBy,
      source: plan.source,
      responsiblePractitionerIds: plan.responsiblePractitionerIds.map((p) => globalId(plan.source, p)),
    };
  },

  async treatmentTeam(ctx: GatewayContext, clientId: string): Promise<TeamMember[]> {
    const today = dutchDate();
    return ctx.ehr.collect(
      clientId,
      'listTreatmentTeam',
      (a, id, c) => a.listTreatmentTeam(id, c),
      (m, source) => ({
        role: m.role as TeamRole,
        from: m.from,
        until: m.until,
        active: m.from <= today && (!m.until || m.until >= today),
        source,
        practitionerId: globalId(source, m.practitionerId),
      }),
    );
  },

  async treatmentEffort(ctx: GatewayContext, clientId: string): Promise<TreatmentEffort> {
    const list = await ctx.ehr.collect(
      clientId,
      'getTreatmentEffort',
      async (a, id, c) => {
        const effort = await a.getTreatmentEffort(id, c);
        return effort ? [effort] : [];
      },
      (effort, source) => ({ ...effort, activities: effort.activities.map((x) => ({ ...x, practitionerId: globalId(source, x.practitionerId) })) }),
    );
    const activities = byTime(
      list.flatMap((e) => e.activities),
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
    const reports = await ctx.ehr.collect(
      clientId,
      'listSessionReports',
      (a, id, c) => a.listSessionReports(id, c),
      (r, source) => ({
        id: globalId(source, r.externalId),
        date: r.date,
        title: r.title,
        body: r.body,
        needsApproval: r.needsApproval,
        approvedAt: r.approvedAt,
        source,
        authorId: r.authorId ? globalId(source, r.authorId) : null,
      }),
    );
    return byTime(reports, (r) => r.date, 'desc');
  },

  async documents(ctx: GatewayContext, clientId: string): Promise<Document[]> {
    const documents = await ctx.ehr.collect(
      clientId,
      'listDocuments',
      (a, id, c) => a.listDocuments(id, c),
      (d, source) => ({
        id: globalId(source, d.externalId),
        name: d.name,
        mediaType: d.mediaType,
        uploadedBy: d.uploadedBy,
        uploadedAt: d.uploadedAt,
        needsApproval: d.needsApproval,
        approvedAt: d.approvedAt,
        source,
        clientId,
        externalId: d.externalId,
      }),
    );
    return byTime(documents, (d) => d.uploadedAt, 'desc');
  },
};
