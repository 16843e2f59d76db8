import { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import { DEMO_BSN } from '../adapters/demo/demo-data';
import { startTestApp } from './utils/app';

describe('one person at two care organisations', () => {
  it('joins a newly found record to the client the portal already knows, so the person sees one portal with both', async () => {
    // A second organisation that knows Karen too (its own ids, the same BSN), loaded as the first adapter.
    const other = new DemoEhrAdapter({}, 'fhir');
    const t = await startTestApp({ env: { EHR_ADAPTERS: 'fhir,demo', FHIR_BASE_URL: 'http://127.0.0.1:9/fhir' }, adapters: { fhir: other } });
    try {
      const token = await t.login({ bsn: DEMO_BSN.karen });
      const { body } = await t.gql('{ me { portals { relation client { id dossier { medications { id } } } } } }', undefined, token);
      const portals = body.data.me.portals as { relation: string; client: { id: string; dossier: { medications: { id: string }[] } } }[];
      expect(portals.filter((p) => p.relation === 'SELF')).toHaveLength(1);
      const ids = portals[0].client.dossier.medications.map((m) => m.id);
      expect(ids.some((id) => id.startsWith('fhir:'))).toBe(true);
      expect(ids.some((id) => id.startsWith('demo:'))).toBe(true);
      // The seeded demo account (client@demo.test) sees the same single client.
      const seeded = await t.login('client@demo.test');
      const mine = await t.gql('{ me { portals { client { id } } } }', undefined, seeded);
      expect(mine.body.data.me.portals[0].client.id).toBe(portals[0].client.id);
    } finally {
      await t.stop();
    }
  });
});
