import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { QuestionnaireDraftEntity } from './questionnaire-draft.entity';
import type { EhrWriteEntity } from '../ehr/ehr-write.entity';

export type DraftAnswers = Record<string, string | null>;

/** A draft as kept: the answers, and when they were sent if they are on their way to the EHR. */
export interface Draft {
  answers: DraftAnswers;
  submittedAt: Date | null;
}

/** The drafts of questionnaire answers (owns questionnaire_drafts); what was sent lives in the EHR. */
export class QuestionnairesService {
  constructor(private readonly db: DataSource) {}

  /** The client's drafts, by assignment id. */
  async drafts(clientId: string): Promise<Map<string, Draft>> {
    const rows = await this.db.getRepository(QuestionnaireDraftEntity).findBy({ clientId });
    return new Map(rows.map((r) => [r.assignmentId, { answers: JSON.parse(r.answers) as DraftAnswers, submittedAt: r.submittedAt }]));
  }

  /** The answers are sent: the draft waits, read-only, until the EHR took them; `enqueue` stores the write in the same transaction. */
  async submit(clientId: string, assignmentId: string, at: Date, enqueue: (tx: EntityManager) => Promise<EhrWriteEntity>): Promise<EhrWriteEntity> {
    return this.db.transaction(async (tx) => {
      await tx.getRepository(QuestionnaireDraftEntity).update({ clientId, assignmentId }, { submittedAt: at });
      return enqueue(tx);
    });
  }

  /** The EHR refused them: the draft is open again, as it was. */
  async reopen(clientId: string, assignmentId: string): Promise<void> {
    await this.db.getRepository(QuestionnaireDraftEntity).update({ clientId, assignmentId }, { submittedAt: null });
  }

  /** Merges these answers into the draft (a later save of a question replaces its answer). */
  async saveDraft(clientId: string, assignmentId: string, answers: DraftAnswers, accountId: string): Promise<DraftAnswers> {
    const repo = this.db.getRepository(QuestionnaireDraftEntity);
    const existing = await repo.findOneBy({ clientId, assignmentId });
    const merged = { ...(existing ? (JSON.parse(existing.answers) as DraftAnswers) : {}), ...answers };
    const row = {
      id: existing?.id ?? randomUUID(),
      clientId,
      assignmentId,
      answers: JSON.stringify(merged),
      updatedAt: new Date(),
      updatedBy: accountId,
      submittedAt: null,
    };
    await repo.upsert(row, ['clientId', 'assignmentId']);
    return merged;
  }

  async removeDraft(clientId: string, assignmentId: string): Promise<void> {
    await this.db.getRepository(QuestionnaireDraftEntity).delete({ clientId, assignmentId });
  }
}
