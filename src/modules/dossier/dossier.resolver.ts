import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Action, authorize } from '../../auth/access';
import type { GatewayContext } from '../../graphql/context';
import { NotFoundError } from '../../errors';
import { Appointment, type AppointmentRecord, Practitioner } from '../appointments/appointment.types';
import type { Sourced } from '../ehr/ehr.service';
import type { EhrPractitioner } from '../../../adapters/ports';
import { dossierReads } from './dossier.service';
import {
  Allergy,
  ContraIndication,
  Document,
  Dossier,
  DossierOverview,
  EffortActivity,
  IntakeReport,
  Medication,
  SessionReport,
  TeamMember,
  TreatmentEffort,
  TreatmentPlan,
} from './dossier.types';

/**
 * Reads one dossier part for a viewer with DOSSIER_VIEW, writing the access-log line alongside;
 * the data leaves only once the line is stored (no log, no data).
 */
export async function readAudited<T>(ctx: GatewayContext, clientId: string, eventType: string, resource: string, read: () => Promise<T>): Promise<T> {
  const { access } = await authorize(ctx, clientId, Action.VIEW_DOSSIER);
  const [data] = await Promise.all([read(), ctx.audit({ action: 'R', eventType, resource, clientId, treatmentRelationship: true }, access)]);
  return data;
}

@Resolver(() => Dossier)
export class DossierResolver {
  @FieldResolver(() => DossierOverview, { nullable: true })
  async overview(@Root() d: Dossier, @Ctx() ctx: GatewayContext): Promise<DossierOverview> {
    const overview = await readAudited(ctx, d.clientId, 'dossier.overview.read', 'Dossieroverzicht', () => dossierReads.overview(ctx, d.clientId));
    if (!overview) throw new NotFoundError('No care organisation has a dossier for this client.');
    return overview;
  }

  @FieldResolver(() => IntakeReport, { nullable: true })
  intakeReport(@Root() d: Dossier, @Ctx() ctx: GatewayContext): Promise<IntakeReport | null> {
    return readAudited(ctx, d.clientId, 'dossier.intake.read', 'Intakeverslag', () => dossierReads.intakeReport(ctx, d.clientId));
  }

  @FieldResolver(() => [Medication], { nullable: true })
  medications(@Root() d: Dossier, @Ctx() ctx: GatewayContext): Promise<Medication[]> {
    return readAudited(ctx, d.clientId, 'dossier.medications.read', 'Medicatie', () => dossierReads.medications(ctx, d.clientId));
  }

  @FieldResolver(() => [Allergy], { nullable: true })
  allergies(@Root() d: Dossier, @Ctx() ctx: GatewayContext): Promise<Allergy[]> {
    return readAudited(ctx, d.clientId, 'dossier.allergies.read', 'Allergieën', () => dossierReads.allergies(ctx, d.clientId));
  }

  @FieldResolver(() => [ContraIndication], { nullable: true })
  contraIndications(@Root() d: Dossier, @Ctx() ctx: GatewayContext): Promise<ContraIndication[]> {
    return readAudited(ctx, d.clientId, 'dossier.contraindications.read', 'Contra-indicaties', () => dossierReads.contraIndications(ctx, d.clientId));
  }

  @FieldResolver(() => TreatmentPlan, { nullable: true })
  treatmentPlan(@Root() d: Dossier, @Ctx() ctx: GatewayContext): Promise<TreatmentPlan | null> {
    return readAudited(ctx, d.clientId, 'dossier.treatmentplan.read', 'Behandelplan', () => dossierReads.treatmentPlan(ctx, d.clientId));
  }

  @FieldResolver(() => [TeamMember], { nullable: true })
  treatmentTeam(@Root() d: Dossier, @Ctx() ctx: GatewayContext): Promise<TeamMember[]> {
    return readAudited(ctx, d.clientId, 'dossier.team.read', 'Behandelteam', () => dossierReads.treatmentTeam(ctx, d.clientId));
  }

  @FieldResolver(() => TreatmentEffort, { nullable: true })
  treatmentEffort(@Root() d: Dossier, @Ctx() ctx: GatewayContext): Promise<TreatmentEffort> {
    return readAudited(ctx, d.clientId, 'dossier.effort.read', 'Behandelinzet', () => dossierReads.treatmentEffort(ctx, d.clientId));
  }

  @FieldResolver(() => [SessionReport], { nullable: true })
  reports(@Root() d: Dossier, @Ctx() ctx: GatewayContext): Promise<SessionReport[]> {
    return readAudited(ctx, d.clientId, 'dossier.reports.read', 'Verslaglegging', () => dossierReads.reports(ctx, d.clientId));
  }

  @FieldResolver(() => [Document], { nullable: true })
  documents(@Root() d: Dossier, @Ctx() ctx: GatewayContext): Promise<Document[]> {
    return readAudited(ctx, d.clientId, 'dossier.documents.read', 'Documenten (lijst)', () => dossierReads.documents(ctx, d.clientId));
  }
}

/** A practitioner the EHR does not (or no longer) know still shows as someone, not as an error. */
function practitionerOrPlaceholder(ctx: GatewayContext, id: string): Practitioner | Promise<Practitioner> {
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
  const present = people.some((p) => p instanceof Promise) ? await Promise.all(people) : (people as Practitioner[]);
  return list.map((a, i) => withPractitioner(a, present[i]!));
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

@Resolver(() => Medication)
export class MedicationResolver {
  @FieldResolver(() => Practitioner, { nullable: true })
  prescriber(@Root() m: Readonly<Medication>, @Ctx() ctx: GatewayContext): Practitioner | null | Promise<Practitioner> {
    return m.prescriberId ? practitionerOrPlaceholder(ctx, m.prescriberId) : null;
  }
}

@Resolver(() => TreatmentPlan)
export class TreatmentPlanResolver {
  @FieldResolver(() => [Practitioner])
  responsiblePractitioners(@Root() p: Readonly<TreatmentPlan>, @Ctx() ctx: GatewayContext): Promise<Practitioner[]> {
    return Promise.all(p.responsiblePractitionerIds.map(async (id) => practitionerOrPlaceholder(ctx, id)));
  }
}

@Resolver(() => TeamMember)
export class TeamMemberResolver {
  @FieldResolver(() => Practitioner)
  practitioner(@Root() m: Readonly<TeamMember>, @Ctx() ctx: GatewayContext): Practitioner | Promise<Practitioner> {
    return practitionerOrPlaceholder(ctx, m.practitionerId);
  }
}

@Resolver(() => EffortActivity)
export class EffortActivityResolver {
  @FieldResolver(() => Practitioner)
  by(@Root() x: Readonly<EffortActivity>, @Ctx() ctx: GatewayContext): Practitioner | Promise<Practitioner> {
    return practitionerOrPlaceholder(ctx, x.practitionerId);
  }
}

@Resolver(() => SessionReport)
export class SessionReportResolver {
  @FieldResolver(() => Practitioner, { nullable: true })
  author(@Root() r: Readonly<SessionReport>, @Ctx() ctx: GatewayContext): Practitioner | null | Promise<Practitioner> {
    return r.authorId ? practitionerOrPlaceholder(ctx, r.authorId) : null;
  }
}

@Resolver(() => Document)
export class DocumentResolver {
  @FieldResolver(() => String, { description: 'A short-lived URL that streams the file to this viewer only.' })
  async downloadUrl(@Root() d: Readonly<Document>, @Ctx() ctx: GatewayContext): Promise<string> {
    const account = await ctx.account();
    return ctx.services.fileUrls.sign(`doc:${d.clientId}:${d.id}`, account.id);
  }
}

