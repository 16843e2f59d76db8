import { randomUUID } from 'node:crypto';
import { MoreThan, type DataSource, type EntityManager } from 'typeorm';
import { BadUserInputError } from '../../errors';
import { ClientStoryEntity, DiaryEntryEntity } from './journal.entity';

/** At most this many characters in one diary entry, and in the story. */
export const DIARY_ENTRY_MAX = 10_000;
export const STORY_MAX = 50_000;

const characters = (s: string) => [...s].length;

/** What was written, trimmed; an empty or too long text is refused with what to change. */
function checkText(text: string, field: string, what: string, max: number, mayBeEmpty: boolean): string {
  const trimmed = text.trim();
  if (!mayBeEmpty && characters(trimmed) === 0) throw new BadUserInputError(`${what} is empty: write 1 to ${max} characters.`, { field, limit: max });
  if (characters(trimmed) > max)
    throw new BadUserInputError(`${what} is ${characters(trimmed)} characters; at most ${max} are allowed.`, { field, limit: max });
  return trimmed;
}

/** The story as kept: trimmed, at most STORY_MAX characters (BAD_USER_INPUT otherwise). */
export const checkStory = (text: string): string => checkText(text, 'text', 'The story', STORY_MAX, true);

/** The diary and the client story: records the portal keeps itself (owns diary_entries and client_stories). */
export class JournalService {
  constructor(private readonly db: DataSource) {}

  /** The client's diary, newest first. */
  async diary(clientId: string): Promise<DiaryEntryEntity[]> {
    return this.db.getRepository(DiaryEntryEntity).find({ where: { clientId }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  async addEntry(clientId: string, author: { accountId: string; name: string }, text: string): Promise<DiaryEntryEntity> {
    const row: DiaryEntryEntity = {
      id: randomUUID(),
      clientId,
      authorAccountId: author.accountId,
      authorName: author.name,
      text: checkText(text, 'text', 'The diary entry', DIARY_ENTRY_MAX, false),
      createdAt: new Date(),
    };
    await this.db.getRepository(DiaryEntryEntity).insert(row);
    return row;
  }

  /** Diary entries written after `since` (all of them without a previous login), by anyone but the viewer. */
  async countNewSince(clientId: string, since: Date | null, viewerAccountId: string): Promise<number> {
    const rows = await this.db.getRepository(DiaryEntryEntity).find({
      select: { id: true, authorAccountId: true },
      where: since ? { clientId, createdAt: MoreThan(since) } : { clientId },
    });
    return rows.filter((r) => r.authorAccountId !== viewerAccountId).length;
  }

  async story(clientId: string): Promise<ClientStoryEntity | null> {
    return this.db.getRepository(ClientStoryEntity).findOneBy({ clientId });
  }

  async saveStory(
    clientId: string,
    accountId: string,
    text: string,
    sharedWithOrganisation: boolean,
    /** Stores the EHR copy's write in the same transaction (the EHR write outbox). */
    alongside?: (tx: EntityManager) => Promise<unknown>,
  ): Promise<ClientStoryEntity> {
    const row: ClientStoryEntity = {
      clientId,
      text: checkStory(text),
      sharedWithOrganisation,
      updatedAt: new Date(),
      updatedBy: accountId,
    };
    await this.db.transaction(async (tx) => {
      await tx.getRepository(ClientStoryEntity).upsert(row, ['clientId']);
      await alongside?.(tx);
    });
    return row;
  }
}
