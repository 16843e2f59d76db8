import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdapterRequestContext, EhrOutboundMessage } from '../adapters/ports';
import { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import { portalIds, startTestApp } from './utils/app';
import { until } from './utils/live';
import { requeueFailedWrites } from '../src/modules/ehr/ehr-writes';

/** The demo EHR, but its message endpoint fails the first `failures` calls (an outage), and counts what it acknowledged. */
class FlakyEhr extends DemoEhrAdapter {
  readonly acknowledged: { clientId: string; message: EhrOutboundMessage }[] = [];
  attempts = 0;
  constructor(public failures: number) {
    super();
  }
  override async sendMessage(clientId: string, message: EhrOutboundMessage, ctx: AdapterRequestContext): Promise<void> {
    this.attempts++;
    if (this.failures > 0) {
      this.failures--;
      throw new Error('EHR unavailable (simulated)');
    }
    await super.sendMessage(clientId, message, ctx);
    this.acknowledged.push({ clientId, message });
  }
}

const START = `mutation($clientId: ID!, $recipientIds: [ID!]!, $body: String!, $kind: ConversationKind) {
  startConversation(clientId: $clientId, subject: "Uitslag", recipientIds: $recipientIds, body: $body, kind: $kind) { id messages { id body } }
}`;
const LIST = 'query($id: ID!) { client(id: $id) { conversations(folder: ALL) { id messages { id body } } } }';
const fast = { OUTBOX_POLL_MS: '50', OUTBOX_RETRY_BASE_MS: '50', OUTBOX_RETRY_MAX_MS: '200', ADAPTER_BREAKER_THRESHOLD: '100', LOG_LEVEL: 'error' };

describe('messages through the EHR write outbox (retries, restart, exactly once)', () => {
  it('shows the message in the conversation at once while the EHR fails, and delivers it exactly once after retries', async () => {
    const ehr = new FlakyEhr(3);
    const t = await startTestApp({ env: fast, adapters: { demo: ehr } });
    try {
      const token = await t.login('client@demo.test');
      const [karenId] = await portalIds(t, token);
      const { body } = await t.gql(START, { clientId: karenId, recipientIds: ['demo:pr-bakker'], body: 'Wanneer is de uitslag bekend?' }, token);
      expect(body.errors).toBeUndefined();
      const messageId = body.data.startConversation.messages[0].id;
      // In the conversation before the EHR has it.
      const list = (await t.gql(LIST, { id: karenId }, token)).body.data.client.conversations;
      expect(list.flatMap((c: { messages: { id: string }[] }) => c.messages.map((m) => m.id))).toContain(messageId);

      await until(() => (ehr.acknowledged.length ? true : undefined), 5000, 'delivery');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(ehr.attempts).toBe(4);
      expect(ehr.acknowledged).toHaveLength(1);
      expect(ehr.acknowledged[0]).toMatchObject({
        clientId: 'cl-karen',
        message: {
          messageId,
          subject: 'Uitslag',
          body: 'Wanneer is de uitslag bekend?',
          authorName: expect.any(String),
          recipientPractitionerIds: ['pr-bakker'],
        },
      });
      const rows: { status: string; attempts: number }[] = await t.app.db.query(
        "SELECT status, attempts FROM ehr_writes WHERE subject = ? AND method = 'sendMessage'",
        [messageId],
      );
      expect(rows).toEqual([{ status: 'delivered', attempts: 4 }]);
    } finally {
      await t.stop();
    }
  });

  it('delivers after a restart what was stored while the EHR was down (pending rows are picked up at start)', async () => {
    const dbUrl = `sqlite:${join(mkdtempSync(join(tmpdir(), 'ggz-outbox-')), 'portal.sqlite')}`;
    const down = new FlakyEhr(Number.MAX_SAFE_INTEGER);
    // No polling to speak of: after the failed first attempt only a start-up pass can deliver it.
    const first = await startTestApp({ databaseUrl: dbUrl, env: { ...fast, OUTBOX_POLL_MS: '600000' }, adapters: { demo: down } });
    let messageId: string;
    try {
      const token = await first.login('client@demo.test');
      const [karenId] = await portalIds(first, token);
      const { body } = await first.gql(START, { clientId: karenId, recipientIds: ['demo:pr-degroot'], body: 'Bericht tijdens storing' }, token);
      messageId = body.data.startConversation.messages[0].id;
      await until(() => (down.attempts > 0 ? true : undefined), 3000, 'a first attempt');
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await first.stop();
    }
    expect(down.acknowledged).toEqual([]);

    const healthy = new FlakyEhr(0);
    const second = await startTestApp({ databaseUrl: dbUrl, env: { ...fast, OUTBOX_POLL_MS: '600000' }, adapters: { demo: healthy } });
    try {
      await until(() => (healthy.acknowledged.length ? true : undefined), 5000, 'delivery after restart');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(healthy.acknowledged.map((a) => a.message.messageId)).toEqual([messageId!]);
      const rows: { status: string; attempts: number }[] = await second.app.db.query(
        "SELECT status, attempts FROM ehr_writes WHERE subject = ? AND method = 'sendMessage'",
        [messageId!],
      );
      expect(rows).toEqual([{ status: 'delivered', attempts: 2 }]);
    } finally {
      await second.stop();
    }
  });

  it('cancels the EHR copy of a message its author deleted before delivery, and sends group-channel messages nowhere', async () => {
    const ehr = new FlakyEhr(Number.MAX_SAFE_INTEGER);
    const t = await startTestApp({ env: fast, adapters: { demo: ehr } });
    try {
      const token = await t.login('client@demo.test');
      const [karenId] = await portalIds(t, token);
      const { body } = await t.gql(START, { clientId: karenId, recipientIds: ['demo:pr-bakker'], body: 'Toch niet' }, token);
      const messageId = body.data.startConversation.messages[0].id;
      await until(() => (ehr.attempts > 0 ? true : undefined), 3000, 'a first attempt');
      await t.gql('mutation($id: ID!) { deleteMessage(messageId: $id) { id } }', { id: messageId }, token);
      ehr.failures = 0;
      const row = await until(
        async () => {
          const [r] = (await t.app.db.query("SELECT status FROM ehr_writes WHERE subject = ? AND method = 'sendMessage'", [messageId])) as { status: string }[];
          return r?.status === 'pending' ? undefined : r;
        },
        5000,
        'the row to settle',
      );
      expect(row.status).toBe('cancelled');
      expect(ehr.acknowledged).toEqual([]);
      // Nothing reached the EHR, so there is nothing to withdraw.
      const withdrawal = await until(
        async () => {
          const [r] = (await t.app.db.query("SELECT status FROM ehr_writes WHERE subject = ? AND method = 'withdrawMessage'", [messageId])) as {
            status: string;
          }[];
          return r?.status === 'pending' ? undefined : r;
        },
        5000,
        'the withdrawal to settle',
      );
      expect(withdrawal.status).toBe('cancelled');

      const channel = await t.gql(START, { clientId: karenId, recipientIds: [], body: 'Alleen familie', kind: 'PERSONAL_NETWORK' }, token);
      const channelMessage = channel.body.data.startConversation.messages[0].id;
      expect(await t.app.db.query('SELECT id FROM ehr_writes WHERE subject = ?', [channelMessage])).toEqual([]);
    } finally {
      await t.stop();
    }
  });

  it('withdraws the EHR copy of a delivered message its author deleted, and only once the send has settled', async () => {
    const ehr = new FlakyEhr(0);
    const t = await startTestApp({ env: fast, adapters: { demo: ehr } });
    try {
      const token = await t.login('client@demo.test');
      const [karenId] = await portalIds(t, token);
      const { body } = await t.gql(START, { clientId: karenId, recipientIds: ['demo:pr-bakker'], body: 'Graag een terugbelverzoek' }, token);
      const messageId = body.data.startConversation.messages[0].id;
      await until(() => (ehr.acknowledged.length ? true : undefined), 3000, 'the delivery');
      const del = await t.gql('mutation($id: ID!) { deleteMessage(messageId: $id) { id } }', { id: messageId }, token);
      expect(del.body.errors).toBeUndefined();
      const copy = await until(
        () => {
          const sent = ehr.sentMessages.find((m) => m.message.messageId === messageId);
          return sent?.withdrawn ? sent : undefined;
        },
        3000,
        'the withdrawal',
      );
      expect(copy.message.body).toBe('');
      const rows = (await t.app.db.query('SELECT method, status FROM ehr_writes WHERE subject = ? ORDER BY method', [messageId])) as {
        method: string;
        status: string;
      }[];
      expect(rows).toEqual([
        { method: 'sendMessage', status: 'delivered' },
        { method: 'withdrawMessage', status: 'delivered' },
      ]);
    } finally {
      await t.stop();
    }
  });

  it('says PENDING to the client until the EHR has the message, FAILED once it is a dead letter (degraded /readyz, the metric), and delivers it once after a requeue', async () => {
    const ehr = new FlakyEhr(Number.MAX_SAFE_INTEGER);
    const t = await startTestApp({ env: { ...fast, OUTBOX_MAX_ATTEMPTS: '3' }, adapters: { demo: ehr } });
    try {
      const token = await t.login('client@demo.test');
      const [karenId] = await portalIds(t, token);
      const started = await t.gql(
        START.replace('messages { id body }', 'messages { id body syncStatus }'),
        { clientId: karenId, recipientIds: ['demo:pr-bakker'], body: 'Komt dit aan?' },
        token,
      );
      expect(started.body.errors).toBeUndefined();
      const conversationId = started.body.data.startConversation.id as string;
      expect(started.body.data.startConversation.messages[0].syncStatus).toBe('PENDING');
      const status = async () => {
        const { body } = await t.gql(
          'query($id: ID!) { client(id: $id) { conversations(folder: ALL) { id messages { id syncStatus } } } }',
          { id: karenId },
          token,
        );
        return (body.data.client.conversations as { id: string; messages: { syncStatus: string | null }[] }[]).find((c) => c.id === conversationId)!.messages[0]
          .syncStatus;
      };
      await until(async () => ((await status()) === 'FAILED' ? true : undefined), 5000, 'the dead letter');
      expect(ehr.attempts).toBe(3);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(ehr.attempts).toBe(3); // no more tries
      const ready = (await (await fetch(`${t.base}/readyz`)).json()) as { status: string; outbox: { pending: number; failed: number } };
      expect(ready).toMatchObject({ status: 'degraded', outbox: { pending: 0, failed: 1 } });
      expect(await (await fetch(`${t.base}/metrics`)).text()).toMatch(/^gateway_outbox_rows\{status="failed"\} 1$/m);

      // The EHR is back; the operator requeues (npm run outbox -- requeue): delivered once, DELIVERED, ready again.
      ehr.failures = 0;
      expect(await requeueFailedWrites(t.app.db)).toBe(1);
      await until(async () => ((await status()) === 'DELIVERED' ? true : undefined), 5000, 'the delivery');
      expect(ehr.acknowledged).toHaveLength(1);
      expect(((await (await fetch(`${t.base}/readyz`)).json()) as { status: string }).status).toBe('ready');
      // A message to the personal network goes to no EHR: no status.
      const own = await t.gql(
        START.replace('messages { id body }', 'messages { id body syncStatus }'),
        { clientId: karenId, recipientIds: [], body: 'Alleen voor mijn netwerk', kind: 'PERSONAL_NETWORK' },
        token,
      );
      expect(own.body.errors).toBeUndefined();
      expect(own.body.data.startConversation.messages[0].syncStatus).toBeNull();
    } finally {
      await t.stop();
    }
  });
});
