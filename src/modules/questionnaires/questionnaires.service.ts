import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { QuestionnaireDraftEntity } from './questionnaire-draft.entity';

export type DraftAnswers = Record<string, string | null>;

/** The drafts of questionnaire answers (owns questionnaire_drafts); what was sent lives in the EHR. */
export class QuestionnairesService {
  constructor(private readonly db: DataSource) {}

  /** The client's drafts, by assignment id. */
  async drafts(clientId: string): Promise<Map<string, DraftAnswers>> {
    const rows = await this.db.getRepository(QuestionnaireDraftEntity).findBy({ clientId });
    return new Map(rows.map((r) => [r.assignmentId, JSON.parse(r.answers) as DraftAnswers]));
  }

  /** Merges these answers into the draft (a later save of a question replaces its answer). */
  async saveDraft(clientId: string, assignmentId: string, answers: DraftAnswers, accountId: string): Promise<DraftAnswers> {
    const repo = this.db.getRepository(QuestionnaireDraftEntity);
    const existing = await repo.findOneBy({ clientId, assignmentId });
    const merged = { ...(existing ? (JSON.parse(existing.answers) as DraftAnswers) : {}), ...answers };
    const row = { id: existing?.id ?? randomUUID(), clientId, assignmentId, answers: JSON.stringify(merged), updatedAt: new Date(), updatedBy: accountId };
    await repo.upsert(row, ['clientId', 'assignmentId']);
    return merged;
  }

  async removeDraft(clientId: string, assignmentId: string): Promise<void> {
    await this.db.getRepository(QuestionnaireDraftEntity).delete({ clientId, assignmentId });
  }
}
