import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { Action, authorize } from '../../auth/access';
import type { GatewayContext } from '../../graphql/context';
import { NotAvailableError } from '../../errors';
import { actor, openWrites } from '../ehr/client-items';
import { checkStory } from './journal.service';
import { Client } from '../clients/client.types';
import type { ClientStoryEntity, DiaryEntryEntity } from './journal.entity';
import { ClientStory, DiaryEntry } from './journal.types';
import { SyncStatus } from '../messages/message.types';
import type { EhrWriteEntity } from '../ehr/ehr-write.entity';

const presentEntry = (e: DiaryEntryEntity): DiaryEntry => ({ id: e.id, text: e.text, createdAt: e.createdAt, author: e.authorName });
const presentStory = (s: ClientStoryEntity): ClientStory => ({ text: s.text, sharedWithOrganisation: s.sharedWithOrganisation, updatedAt: s.updatedAt });

/**
 * The diary (dagboek, Tromp) and the client story (Mijn Verhaal, Caren): the portal's own records,
 * read and written by the client and those who act for them (VIEW_JOURNAL / WRITE_JOURNAL; network
 * members never). Every read and change is in the access log.
 */
@Resolver(() => Client)
export class JournalResolver {
  @FieldResolver(() => [DiaryEntry], { nullable: true, description: 'Newest first.' })
  async diary(@Root() c: Client, @Ctx() ctx: GatewayContext): Promise<DiaryEntry[]> {
    const { access } = await authorize(ctx, c.id, Action.VIEW_JOURNAL);
    const [entries] = await Promise.all([
      ctx.services.journal.diary(c.id),
      ctx.audit({ action: 'R', eventType: 'journal.diary.read', resource: 'Dagboek', clientId: c.id }, access),
    ]);
    return entries.map(presentEntry);
  }

  @FieldResolver(() => ClientStory, { nullable: true, description: 'Null until the client wrote one.' })
  async story(@Root() c: Client, @Ctx() ctx: GatewayContext): Promise<ClientStory | null> {
    const { access } = await authorize(ctx, c.id, Action.VIEW_JOURNAL);
    const [story] = await Promise.all([
      ctx.services.journal.story(c.id),
      ctx.audit({ action: 'R', eventType: 'journal.story.read', resource: 'Mijn verhaal', clientId: c.id }, access),
    ]);
    if (!story) return null;
    const waiting = [...(await openWrites(ctx, c.id, 'shareClientStory')).values()];
    const syncStatus = waiting.some((w) => w.status === 'failed') ? SyncStatus.FAILED : waiting.length ? SyncStatus.PENDING : null;
    return { ...presentStory(story), syncStatus };
  }
}

@Resolver()
export class JournalMutationResolver {
  @Mutation(() => DiaryEntry)
  async addDiaryEntry(@Arg('clientId', () => ID) clientId: string, @Arg('text') text: string, @Ctx() ctx: GatewayContext): Promise<DiaryEntry> {
    const { access } = await authorize(ctx, clientId, Action.WRITE_JOURNAL);
    const account = await ctx.account();
    // Written first, logged after: the access log says what happened, not what was tried (a refused text logs nothing).
    const entry = await ctx.services.journal.addEntry(clientId, { accountId: account.id, name: account.displayName }, text);
    await ctx.audit({ action: 'C', eventType: 'journal.diary.create', resource: 'Dagboek: nieuw bericht', clientId }, access);
    return presentEntry(entry);
  }

  @Mutation(() => ClientStory)
  async saveClientStory(
    @Arg('clientId', () => ID) clientId: string,
    @Arg('text') text: string,
    @Arg('shareWithOrganisation') share: boolean,
    @Ctx() ctx: GatewayContext,
  ): Promise<ClientStory> {
    const { access } = await authorize(ctx, clientId, Action.WRITE_JOURNAL);
    const checked = checkStory(text);
    const before = await ctx.services.journal.story(clientId);
    // Shared means a copy in the care organisation's EHR, never before the client said so; withdrawn,
    // the copy is marked entered in error there. Through the EHR write outbox, in one transaction
    // with the portal's record: while the EHR is away the story says so (syncStatus PENDING).
    const account = await ctx.account();
    let writes: EhrWriteEntity[] = [];
    let saved;
    if (share || before?.sharedWithOrganisation) {
      const targets = (await ctx.ehr.clientSources(clientId)).filter((s) => typeof ctx.services.registry.adapter(s.source)?.shareClientStory === 'function');
      if (!targets.length) throw new NotAvailableError('Sharing the story with this care organisation');
      const story = { shared: share, text: share ? checked : '', by: await actor(ctx, access), at: new Date().toISOString() };
      saved = await ctx.services.journal.saveStory(clientId, account.id, checked, share, async (tx) => {
        writes = await Promise.all(
          targets.map((t) =>
            ctx.services.ehrWrites.enqueue(tx, {
              clientId,
              source: t.source,
              externalClientId: t.externalId,
              method: 'shareClientStory',
              subject: `story:${t.source}`,
              input: story,
            }),
          ),
        );
      });
    } else saved = await ctx.services.journal.saveStory(clientId, account.id, checked, share);
    const outcomes = await Promise.all(writes.map((w) => ctx.services.ehrWrites.tryNow(w)));
    await ctx.audit({ action: 'U', eventType: 'journal.story.update', resource: 'Mijn verhaal', clientId }, access);
    if (share !== Boolean(before?.sharedWithOrganisation))
      await ctx.audit(
        {
          action: 'U',
          eventType: 'journal.story.share',
          resource: share ? 'Mijn verhaal gedeeld met de zorgaanbieder' : 'Delen van Mijn verhaal ingetrokken',
          clientId,
          consentApplied: true,
        },
        access,
      );
    const syncStatus = outcomes.some((o) => o.state === 'refused')
      ? SyncStatus.FAILED
      : outcomes.some((o) => o.state === 'pending')
        ? SyncStatus.PENDING
        : null;
    return { ...presentStory(saved), syncStatus };
  }
}
