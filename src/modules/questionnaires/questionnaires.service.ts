import { randomUUID } from 'node:crypto';
import { IsNull, QueryFailedError, type DataSource, type EntityManager } from 'typeorm';
import { ConflictError } from '../../errors';
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

  /**
   * The answers are sent: the draft waits, read-only, until the EHR took them; `enqueue` stores the
   * write in the same transaction. Only while the draft is still open and holds exactly these
   * answers: of two sends at once (two devices) one wins, the other is a CONFLICT, and a save that
   * came between is not sent unseen.
   */
  async submit(
    clientId: string,
    assignmentId: string,
    answers: DraftAnswers,
    at: Date,
    enqueue: (tx: EntityManager) => Promise<EhrWriteEntity>,
  ): Promise<EhrWriteEntity> {
    return this.db.transaction(async (tx) => {
      const repo = tx.getRepository(QuestionnaireDraftEntity);
      const { affected } = await repo.update({ clientId, assignmentId, answers: JSON.stringify(answers), submittedAt: IsNull() }, { submittedAt: at });
      if (!affected) {
        const now = await repo.findOneBy({ clientId, assignmentId });
        if (now?.submittedAt) throw sentAlready(now.submittedAt);
        throw new ConflictError('These answers were changed meanwhile (on another device?); look at them again before sending.');
      }
      return enqueue(tx);
    });
  }

  /** The EHR refused them: the draft is open again, as it was. */
  async reopen(clientId: string, assignmentId: string): Promise<void> {
    await this.db.getRepository(QuestionnaireDraftEntity).update({ clientId, assignmentId }, { submittedAt: null });
  }

  /**
   * Merges these answers into the draft (a later save of a question replaces its answer); a sent
   * draft is not changed (CONFLICT). Two saves at once both count: each merges into what the other
   * wrote (the update holds only if the answers are still those it read, else it reads again).
   */
  async saveDraft(clientId: string, assignmentId: string, answers: DraftAnswers, accountId: string): Promise<DraftAnswers> {
    const repo = this.db.getRepository(QuestionnaireDraftEntity);
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await repo.findOneBy({ clientId, assignmentId });
      if (existing?.submittedAt) throw sentAlready(existing.submittedAt);
      const merged = { ...(existing ? (JSON.parse(existing.answers) as DraftAnswers) : {}), ...answers };
      const changes = { answers: JSON.stringify(merged), updatedAt: new Date(), updatedBy: accountId };
      if (existing) {
        const { affected } = await repo.update({ id: existing.id, answers: existing.answers, submittedAt: IsNull() }, changes);
        if (affected) return merged;
        continue;
      }
      try {
        await repo.insert({ id: randomUUID(), clientId, assignmentId, submittedAt: null, ...changes });
        return merged;
      } catch (err) {
        // The other device made the draft first: merge into it.
        if (!(err instanceof QueryFailedError)) throw err;
      }
    }
    throw new ConflictError('These answers are being saved elsewhere at the same moment; try again.');
  }

  async removeDraft(clientId: string, assignmentId: string): Promise<void> {
    await this.db.getRepository(QuestionnaireDraftEntity).delete({ clientId, assignmentId });
  }
}

function sentAlready(at: Date): ConflictError {
  return new ConflictError('This questionnaire was sent: it can no longer be changed.', { status: 'COMPLETED', completedAt: at.toISOString() });
}
