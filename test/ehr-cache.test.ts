import { randomUUID } from 'node:crypto';
import { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import { portalIds, startTestApp, type TestApp } from './utils/app';
import { postSignedSync } from './utils/live';
import { describeWithRedis, REDIS_URL, redisPrefix } from './utils/services';

const MEDS = 'query($id: ID!) { client(id: $id) { dossier { medications { name } } } }';

async function postSync(t: TestApp, event: Record<string, unknown>): Promise<number> {
  return (await postSignedSync(t.base, t.config.syncSecret, event)).status;
}

function cacheSuite(name: string, env: () => Record<string, string>) {
  describe(name, () => {
    let t: TestApp;
    const demo = new DemoEhrAdapter();
    beforeAll(async () => {
      t = await startTestApp({ env: { CACHE_TTL_SECONDS: '60', ...env() }, adapters: { demo } });
    });
    afterAll(async () => t.stop());

    it('reads a dossier part from the EHR once, then from the cache', async () => {
      const token = await t.login('client@demo.test');
      const [id] = await portalIds(t, token);
      const before = demo.calls.get('listMedications') ?? 0;
      const first = await t.gql(MEDS, { id }, token);
      const second = await t.gql(MEDS, { id }, token);
      expect(second.body.data).toEqual(first.body.data);
      expect(first.body.data.client.dossier.medications.length).toBeGreaterThan(0);
      expect((demo.calls.get('listMedications') ?? 0) - before).toBe(1);
    });

    it('caches practitioners by id, so the next screen costs no practitioner batch', async () => {
      const token = await t.login('client@demo.test');
      const [id] = await portalIds(t, token);
      const q = 'query($id: ID!) { client(id: $id) { appointments(when: ALL) { practitioner { name profession } } } }';
      const first = await t.gql(q, { id }, token);
      const before = demo.calls.get('getPractitioners') ?? 0;
      const second = await t.gql(q, { id }, token);
      expect(second.body.data).toEqual(first.body.data);
      expect((demo.calls.get('getPractitioners') ?? 0) - before).toBe(0);
    });

    it('never serves one client’s cached data for another', async () => {
      const token = await t.login('parent@demo.test');
      const names = async (id: string) =>
        (await t.gql('query($id: ID!) { client(id: $id) { dossier { allergies { substance } overview { dossierNumber } } } }', { id }, token)).body.data.client
          .dossier;
      const [a, b] = await portalIds(t, token);
      const [first, second] = [await names(a), await names(b)];
      expect(first.overview.dossierNumber).not.toBe(second.overview.dossierNumber);
      expect(await names(a)).toEqual(first);
    });

    it('drops a client’s cached data on a signed dossier.changed event', async () => {
      const token = await t.login('client@demo.test');
      const [id] = await portalIds(t, token);
      await t.gql(MEDS, { id }, token);
      const before = demo.calls.get('listMedications') ?? 0;
      demo.data.clients[0].medications.push({
        externalId: 'md-new',
        name: 'Melatonine 1 mg tablet',
        dosage: '1 tablet voor het slapen',
        since: '2026-11-01',
        prescriberId: 'pr-degroot',
      });
      expect((await t.gql(MEDS, { id }, token)).body.data.client.dossier.medications.map((m: { name: string }) => m.name)).not.toContain(
        'Melatonine 1 mg tablet',
      );
      expect(
        await postSync(t, { id: randomUUID(), type: 'dossier.changed', source: 'demo', clientId: id, occurredAt: new Date().toISOString(), data: {} }),
      ).toBe(202);
      let names: string[] = [];
      for (let i = 0; i < 20 && !names.includes('Melatonine 1 mg tablet'); i++) {
        names = (await t.gql(MEDS, { id }, token)).body.data.client.dossier.medications.map((m: { name: string }) => m.name);
        if (!names.includes('Melatonine 1 mg tablet')) await new Promise((r) => setTimeout(r, 50));
      }
      expect(names).toContain('Melatonine 1 mg tablet');
      expect((demo.calls.get('listMedications') ?? 0) - before).toBeGreaterThanOrEqual(1);
    });

    it('keeps nothing a read got from the EHR before a drop: the read under way when the event came does not answer the next one', async () => {
      const cache = t.app.services.ehrCache;
      const clientId = randomUUID();
      let answer: ((names: string[]) => void) | undefined;
      const slow = cache.read(clientId, 'demo', 'medications', () => new Promise<string[]>((resolve) => (answer = resolve)));
      for (let i = 0; i < 100 && !answer; i++) await new Promise((r) => setTimeout(r, 5));
      // The EHR is still answering the first read when its dossier.changed arrives.
      await cache.dropClient(clientId);
      answer!(['Sertraline 50 mg']);
      expect(await slow).toEqual(['Sertraline 50 mg']);
      expect(await cache.read(clientId, 'demo', 'medications', async () => ['Sertraline 50 mg', 'Melatonine 1 mg tablet'])).toEqual([
        'Sertraline 50 mg',
        'Melatonine 1 mg tablet',
      ]);
      // The same after a part dropped by the portal's own write.
      const before = cache.read(clientId, 'demo', 'consents', () => new Promise<string[]>((resolve) => (answer = resolve)));
      answer = undefined;
      for (let i = 0; i < 100 && !answer; i++) await new Promise((r) => setTimeout(r, 5));
      await cache.dropPart(clientId, 'demo', 'consents');
      answer!(['GRANTED']);
      await before;
      expect(await cache.read(clientId, 'demo', 'consents', async () => ['REVOKED'])).toEqual(['REVOKED']);
      // And a steady client is answered from the cache.
      expect(await cache.read(clientId, 'demo', 'consents', async () => ['asked again'])).toEqual(['REVOKED']);
    });

    it('shows a changed appointment after a signed appointment.upserted event (its cache dropped)', async () => {
      const token = await t.login('client@demo.test');
      const [id] = await portalIds(t, token);
      const APPOINTMENTS = 'query($id: ID!) { client(id: $id) { appointments(when: ALL) { id type } } }';
      const types = async () => (await t.gql(APPOINTMENTS, { id }, token)).body.data.client.appointments.map((a: { type: string }) => a.type) as string[];
      await types();
      const appointment = demo.data.clients[0].appointments[0];
      const original = appointment.type;
      appointment.type = 'Groepsbehandeling (verzet)';
      try {
        expect(await types()).not.toContain('Groepsbehandeling (verzet)');
        expect(
          await postSync(t, { id: randomUUID(), type: 'appointment.upserted', source: 'demo', clientId: id, data: { appointmentId: appointment.externalId } }),
        ).toBe(202);
        let seen: string[] = [];
        for (let i = 0; i < 20 && !seen.includes('Groepsbehandeling (verzet)'); i++) {
          seen = await types();
          if (!seen.includes('Groepsbehandeling (verzet)')) await new Promise((r) => setTimeout(r, 50));
        }
        expect(seen).toContain('Groepsbehandeling (verzet)');
      } finally {
        appointment.type = original;
      }
    });
  });
}

cacheSuite('the EHR read-through cache (in-process)', () => ({}));
describeWithRedis('with Redis', () => {
  cacheSuite('the EHR read-through cache (Redis)', () => ({ REDIS_URL: REDIS_URL!, REDIS_KEY_PREFIX: redisPrefix() }));
});
