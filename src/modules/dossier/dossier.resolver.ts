import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Action, authorize } from '../../auth/access';
import type { GatewayContext } from '../../graphql/context';
import { NotFoundError } from '../../errors';
import { Practitioner } from '../appointments/appointment.types';
import { practitionerOrPlaceholder } from '../appointments/practitioners';
import { dossierReads } from './dossier.service';
import { DOCUMENT_APPROVAL, REPORT_APPROVAL, TREATMENT_PLAN_APPROVAL, withPendingApprovals } from './approvals.service';
import { withPendingGoals } from './treatment-goals';
import { withPendingUploads } from './document-upload';
import {
  Allergy,
  ContraIndication,
  Insurance,
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
    const [overview, profile] = await Promise.all([
      readAudited(ctx, d.clientId, 'dossier.overview.read', 'Dossieroverzicht', () => dossierReads.overview(ctx, d.clientId)),
      // The personal data of the overview (name, birth date, gender): the client's record, read once per request.
      ctx.profile(d.clientId),
    ]);
    if (!overview) throw new NotFoundError('No care organisation has a dossier for this client.');
    return { ...overview, name: profile?.name ?? null, birthDate: profile?.birthDate ?? null, gender: profile?.gender ?? null };
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

  @FieldResolver(() => [Insurance], { nullable: true, description: 'zorgverzekering, as the care organisation records it (read-only)' })
  insurance(@Root() d: Dossier, @Ctx() ctx: GatewayContext): Promise<Insurance[]> {
    return readAudited(ctx, d.clientId, 'dossier.insurance.read', 'Verzekering', () => dossierReads.insurance(ctx, d.clientId));
  }

  @FieldResolver(() => [ContraIndication], { nullable: true })
  contraIndications(@Root() d: Dossier, @Ctx() ctx: GatewayContext): Promise<ContraIndication[]> {
    return readAudited(ctx, d.clientId, 'dossier.contraindications.read', 'Contra-indicaties', () => dossierReads.contraIndications(ctx, d.clientId));
  }

  @FieldResolver(() => TreatmentPlan, { nullable: true })
  treatmentPlan(@Root() d: Dossier, @Ctx() ctx: GatewayContext): Promise<TreatmentPlan | null> {
    return readAudited(ctx, d.clientId, 'dossier.treatmentplan.read', 'Behandelplan', async () => {
      const plan = await dossierReads.treatmentPlan(ctx, d.clientId);
      return plan ? withPendingGoals(ctx, d.clientId, (await withPendingApprovals(ctx, d.clientId, TREATMENT_PLAN_APPROVAL, [plan]))[0]) : null;
    });
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
    return readAudited(ctx, d.clientId, 'dossier.reports.read', 'Verslaglegging', async () =>
      withPendingApprovals(ctx, d.clientId, REPORT_APPROVAL, await dossierReads.reports(ctx, d.clientId)),
    );
  }

  @FieldResolver(() => [Document], { nullable: true })
  documents(@Root() d: Dossier, @Ctx() ctx: GatewayContext): Promise<Document[]> {
    return readAudited(ctx, d.clientId, 'dossier.documents.read', 'Documenten (lijst)', async () =>
      withPendingUploads(ctx, d.clientId, await withPendingApprovals(ctx, d.clientId, DOCUMENT_APPROVAL, await dossierReads.documents(ctx, d.clientId))),
    );
  }
}

// `@Root() x: Readonly<T>` (not `T`) on list items: with a class type type-graphql copies every
// item into a new instance of that class before each field resolver runs.
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
