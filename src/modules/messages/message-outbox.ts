import { In, LessThanOrEqual, type DataSource } from 'typeorm';
import type { EhrOutboundAttachment, EhrOutboundMessage } from '../../../adapters/ports';
import type { AttachmentsService } from '../files/attachments.service';
import type { Logger } from '../../observability/logger';
import type { ClientsService } from '../clients/clients.service';
import type { AdapterRegistry } from '../ehr/adapter-registry';
import { parseGlobalId } from '../ehr/global-id';
import { cappedBackoff, PollLoop, type OutboxOptions } from '../ehr/poll-loop';
import { ConversationEntity, ConversationParticipantEntity, MessageEntity, MessageOutboxEntity, type OutboxStatus } from './message.entity';

type Outcome = { status: 'delivered' } | { status: 'cancelled'; reason: string } | { status: 'retry'; reason: string };

export interface MessageOutboxOptions {
  db: DataSource;
  registry: AdapterRegistry;
  clients: ClientsService;
  logger: Logger;
  options: OutboxOptions;
  /** Where attachments' bytes are read from, to go along with their message. */
  attachments: AttachmentsService;
}

/**
 * Hands portal messages to the client's EHRs (`sendMessage`, idempotent by message id). Rows come
 * from the same transaction as the message, so a crash before sending loses nothing: pending rows
 * are picked up at start and on every poll, by whichever instance claims them first. Failures are
 * retried with capped exponential backoff and jitter until the EHR acknowledges.
 */
export class MessageOutbox {
  private readonly loop: PollLoop;

  constructor(private readonly deps: MessageOutboxOptions) {
    this.loop = new PollLoop(() => this.runOnce(), deps.options.pollMs, deps.logger, 'message outbox');
  }

  start(): void {
    this.loop.start();
  }

  /** Runs a pass now (or right after the current one), e.g. after a message was committed. */
  kick(): void {
    this.loop.kick();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One pass over the due rows; answers how many were delivered. */
  async runOnce(now = new Date()): Promise<number> {
    const repo = this.deps.db.getRepository(MessageOutboxEntity);
    const due = await repo.find({
      where: { status: 'pending', nextAttemptAt: LessThanOrEqual(now) },
      order: { nextAttemptAt: 'ASC' },
      take: this.deps.options.batch ?? 20,
    });
    let delivered = 0;
    for (const row of due) {
      // Claim: only the instance whose update moved the row on sends it now.
      const lease = new Date(Date.now() + (this.deps.options.leaseMs ?? 60_000));
      const claimed = await repo.update({ id: row.id, status: 'pending', nextAttemptAt: row.nextAttemptAt }, { nextAttemptAt: lease });
      if (claimed.affected !== 1) continue;
      const outcome = await this.deliver(row).catch((err: Error): Outcome => ({ status: 'retry', reason: err.message }));
      if (outcome.status === 'delivered') {
        delivered++;
        await repo.update({ id: row.id }, { status: 'delivered', deliveredAt: new Date(), attempts: row.attempts + 1, lastError: null });
      } else if (outcome.status === 'cancelled') {
        await repo.update({ id: row.id }, { status: 'cancelled', lastError: outcome.reason.slice(0, 500) });
      } else if (row.attempts + 1 >= (this.deps.options.maxAttempts ?? Number.POSITIVE_INFINITY)) {
        // A dead letter: kept with its last error (nothing is lost), shown in /readyz and /metrics, FAILED to the client.
        this.deps.logger.error(
          { messageId: row.messageId, source: row.source, attempts: row.attempts + 1, err: outcome.reason },
          'message outbox row is a dead letter: the EHR did not take it after the last attempt; requeue with npm run outbox -- requeue',
        );
        await repo.update({ id: row.id }, { status: 'failed', attempts: row.attempts + 1, lastError: outcome.reason.slice(0, 500) });
      } else {
        const attempts = row.attempts + 1;
        const next = new Date(Date.now() + this.backoff(attempts));
        this.deps.logger.warn(
          { messageId: row.messageId, source: row.source, attempts, err: outcome.reason },
          'message not yet delivered to the EHR; will retry',
        );
        await repo.update({ id: row.id }, { attempts, nextAttemptAt: next, lastError: outcome.reason.slice(0, 500) });
      }
    }
    return delivered;
  }

  private async outboundAttachments(messageId: string): Promise<EhrOutboundAttachment[]> {
    const service = this.deps.attachments;
    if (!service) return [];
    return (await service.forMessage(messageId)).map((a) => ({
      id: a.id,
      name: a.name,
      mediaType: a.mediaType,
      size: Number(a.size),
      content: async () => {
        const stream = await service.content(a);
        // Gone from storage while the message still lists it: retried (a shared store may lag), never sent without it.
        if (!stream) throw new Error(`attachment ${a.id} is missing from file storage`);
        return stream;
      },
    }));
  }

  /**
   * Withdraws an EHR's copy of a deleted message, once its send has settled: a send still pending
   * is cancelled by its own delivery (the body is gone), so the withdrawal waits for that outcome.
   */
  private async withdraw(row: MessageOutboxEntity): Promise<Outcome> {
    const sends = await this.deps.db.getRepository(MessageOutboxEntity).findBy({ messageId: row.messageId, source: row.source, action: 'send' });
    if (sends.some((s) => s.status === 'pending')) return { status: 'retry', reason: 'the send of this message has not settled yet' };
    if (!sends.some((s) => s.status === 'delivered')) return { status: 'cancelled', reason: 'no copy reached this EHR' };
    const adapter = this.deps.registry.adapter(row.source);
    if (!adapter) return { status: 'retry', reason: `adapter '${row.source}' is not loaded here` };
    if (!adapter.withdrawMessage) return { status: 'cancelled', reason: `adapter '${row.source}' cannot withdraw messages` };
    const message = await this.deps.db.getRepository(MessageEntity).findOneBy({ id: row.messageId });
    if (!message) return { status: 'cancelled', reason: 'the message no longer exists' };
    const externalClientId = await this.externalClientId(message.clientId, row.source);
    if (!externalClientId) return { status: 'cancelled', reason: `the client is not known at '${row.source}'` };
    await this.deps.registry.call(
      row.source,
      'withdrawMessage',
      (a, signal) => a.withdrawMessage!(externalClientId, message.id, { requestId: `outbox:${row.id}`, signal }),
      'write',
    );
    return { status: 'delivered' };
  }

  /** The client's id in one EHR, or undefined when that EHR does not know the client. */
  private async externalClientId(clientId: string, source: string): Promise<string | undefined> {
    return (await this.deps.clients.sourcesOf([clientId])).get(clientId)?.find((s) => s.source === source)?.externalId;
  }

  /** How many rows wait and how many are dead letters (/readyz, /metrics). */
  async counts(): Promise<{ pending: number; failed: number }> {
    const rows: { status: OutboxStatus; n: number | string }[] = await this.deps.db
      .getRepository(MessageOutboxEntity)
      .createQueryBuilder('o')
      .select('o.status', 'status')
      .addSelect('COUNT(*)', 'n')
      .where('o.status IN (:...statuses)', { statuses: ['pending', 'failed'] })
      .groupBy('o.status')
      .getRawMany();
    const of = (status: OutboxStatus) => Number(rows.find((r) => r.status === status)?.n ?? 0);
    return { pending: of('pending'), failed: of('failed') };
  }

  /** Puts dead letters back in line (all, or those of the given messages) and runs a pass. */
  async requeue(messageIds?: string[]): Promise<number> {
    const requeued = await requeueDeadLetters(this.deps.db, messageIds);
    this.kick();
    return requeued;
  }

  /** Rows still waiting for one message (tests and operations). */
  pending(messageIds: string[]): Promise<MessageOutboxEntity[]> {
    return this.deps.db.getRepository(MessageOutboxEntity).find({ where: { messageId: In(messageIds), status: 'pending' } });
  }

  private backoff(attempts: number): number {
    return cappedBackoff(attempts, this.deps.options.retryBaseMs, this.deps.options.retryMaxMs);
  }

  private async deliver(row: MessageOutboxEntity): Promise<Outcome> {
    if (row.action === 'withdraw') return this.withdraw(row);
    const message = await this.deps.db.getRepository(MessageEntity).findOneBy({ id: row.messageId });
    if (!message) return { status: 'cancelled', reason: 'the message no longer exists' };
    if (message.deletedAt || message.body === null) return { status: 'cancelled', reason: 'the author deleted the message before it was delivered' };
    const adapter = this.deps.registry.adapter(row.source);
    // Another instance may have this adapter loaded (a rolling configuration change): keep the row.
    if (!adapter) return { status: 'retry', reason: `adapter '${row.source}' is not loaded here` };
    if (!adapter.sendMessage) return { status: 'cancelled', reason: `adapter '${row.source}' cannot receive messages` };
    const [conversation, participants, externalClientId] = await Promise.all([
      this.deps.db.getRepository(ConversationEntity).findOneByOrFail({ id: message.conversationId }),
      this.deps.db.getRepository(ConversationParticipantEntity).findBy({ conversationId: message.conversationId, kind: 'PRACTITIONER' }),
      this.externalClientId(message.clientId, row.source),
    ]);
    if (!externalClientId) return { status: 'cancelled', reason: `the client is not known at '${row.source}'` };
    const outbound: EhrOutboundMessage = {
      messageId: message.id,
      conversationId: conversation.id,
      subject: conversation.subject,
      body: message.body,
      authorName: message.authorName,
      recipientPractitionerIds: participants.flatMap((p) => {
        const id = parseGlobalId(p.ref);
        return id && id.source === row.source ? [id.externalId] : [];
      }),
      sentAt: message.sentAt.toISOString(),
      attachments: await this.outboundAttachments(message.id),
    };
    await this.deps.registry.call(
      row.source,
      'sendMessage',
      (a, signal) => a.sendMessage!(externalClientId, outbound, { requestId: `outbox:${row.id}`, signal }),
      'write',
    );
    return { status: 'delivered' };
  }
}

/**
 * Dead letters back in line, tried again from the first backoff step (all, or those of the given
 * messages); answers how many. `npm run outbox -- requeue` calls it while the gateway runs: any
 * instance's next pass picks them up.
 */
export async function requeueDeadLetters(db: DataSource, messageIds?: string[]): Promise<number> {
  const result = await db
    .getRepository(MessageOutboxEntity)
    .update(messageIds?.length ? { status: 'failed', messageId: In(messageIds) } : { status: 'failed' }, {
      status: 'pending',
      attempts: 0,
      nextAttemptAt: new Date(),
    });
  return result.affected ?? 0;
}
