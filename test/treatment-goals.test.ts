import { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import { until } from './utils/live';
import { ehrAway, OUTAGE_ENV } from './utils/outage';
import { Permission, PortalRelation } from '../src/auth/permissions';
import { portalIds, startTestApp, type TestApp } from './utils/app';

const PLAN = 'query($id: ID!) { client(id: $id) { dossier { treatmentPlan { id status goals { id description addedBy removable } } } } }';
const ADD = 'mutation($c: ID!, $d: String!) { addTreatmentGoal(clientId: $c, description: $d) { id goals { id description addedBy removable } } }';
const REMOVE = 'mutation($g: ID!) { removeTreatmentGoal(goalId: $g) { id goals { id description } } }';

type Goal = { id: string; description: string; addedBy: string; removable: boolean };

/** The client's own goals in the treatment plan (Tromp's behandelplan), on the demo EHR with its cache on. */
describe('adding and removing the client’s own treatment goals', () => {
  let t: TestApp;
  let token: string;
  let karenId: string;
  let demo: DemoEhrAdapter;
  const goals = async (as = token) => (await t.gql(PLAN, { id: karenId }, as)).body.data.client.dossier.treatmentPlan.goals as Goal[];
  const lines = async () => (await t.app.services.audit.list(karenId, 200)).filter((e) => e.eventType.startsWith('dossier.treatmentplan.goal'));
  beforeAll(async () => {
    t = await startTestApp({ env: { CACHE_TTL_SECONDS: '300' } });
    token = await t.login('client@demo.test');
    [karenId] = await portalIds(t, token);
    demo = t.app.services.registry.adapter('demo') as DemoEhrAdapter;
  });
  afterAll(async () => t.stop());

  it('adds a goal in the client’s words to a plan awaiting approval, shown at once and on the next (cached) read, logged once', async () => {
    expect((await goals()).map((g) => [g.id, g.removable])).toEqual([
      ['demo:gl-k-1', false],
      ['demo:gl-k-2', false],
      ['demo:gl-k-3', true],
    ]);
    const { body } = await t.gql(ADD, { c: karenId, d: '  Een keer per week sporten.  ' }, token);
    expect(body.errors).toBeUndefined();
    const added = (body.data.addTreatmentGoal.goals as Goal[]).find((g) => g.description === 'Een keer per week sporten.');
    expect(added).toMatchObject({ addedBy: 'Karen Test', removable: true });
    expect((await goals()).map((g) => g.id)).toContain(added!.id);
    expect(await lines()).toEqual([expect.objectContaining({ action: 'C', resource: 'Behandelplan: doel toegevoegd', actorName: 'Karen Test' })]);
    expect(demo.calls.get('addTreatmentGoal')).toBe(1);
  });

  it('refuses an empty or too long goal (nothing written), a practitioner’s goal to remove, and a network member', async () => {
    for (const d of ['   ', 'x'.repeat(501)]) {
      expect((await t.gql(ADD, { c: karenId, d }, token)).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'description' });
    }
    expect(demo.calls.get('addTreatmentGoal')).toBe(1);
    expect((await t.gql(REMOVE, { g: 'demo:gl-k-1' }, token)).body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'GOAL_NOT_REMOVABLE' });
    expect((await t.gql(REMOVE, { g: 'demo:gl-nope' }, token)).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const relative = (await t.app.services.accounts.findByEmail('relative@demo.test'))!;
    await t.app.services.accounts.link(relative.id, karenId, PortalRelation.NETWORK_MEMBER, [Permission.DOSSIER_VIEW, Permission.PLANS_APPROVE], false);
    const ellen = await t.login('relative@demo.test');
    expect((await t.gql(ADD, { c: karenId, d: 'Van Ellen' }, ellen)).body.errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      reason: 'NO_PERMISSION',
    });
    expect((await t.gql(REMOVE, { g: 'demo:gl-k-3' }, ellen)).body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NO_PERMISSION' });
    expect((await goals()).map((g) => g.id)).toContain('demo:gl-k-3');
  });

  it('removes a goal the client added, logged as a removal; once the plan is approved its goals are fixed (PLAN_APPROVED)', async () => {
    const { body } = await t.gql(REMOVE, { g: 'demo:gl-k-3' }, token);
    expect(body.errors).toBeUndefined();
    expect((body.data.removeTreatmentGoal.goals as Goal[]).map((g) => g.id)).not.toContain('demo:gl-k-3');
    expect((await goals()).map((g) => g.id)).not.toContain('demo:gl-k-3');
    expect((await lines()).map((l) => l.action)).toEqual(['D', 'C']); // newest first

    expect((await t.gql('mutation { approveTreatmentPlan(planId: "demo:bp-k-1") { status } }', {}, token)).body.errors).toBeUndefined();
    expect((await goals()).every((g) => !g.removable)).toBe(true);
    const late = await t.gql(ADD, { c: karenId, d: 'Te laat' }, token);
    expect(late.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'PLAN_APPROVED' });
    const own = (await goals()).find((g) => g.description === 'Een keer per week sporten.')!;
    expect((await t.gql(REMOVE, { g: own.id }, token)).body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'PLAN_APPROVED' });
    expect(demo.calls.get('addTreatmentGoal')).toBe(1);
  });
});

describe('a goal added while the EHR is away (the EHR write outbox)', () => {
  it('is in the plan at once with syncStatus PENDING, and reaches the EHR once when it is back', async () => {
    const ehr = ehrAway('addTreatmentGoal');
    const t = await startTestApp({
      env: { ...OUTAGE_ENV, CACHE_TTL_SECONDS: '300' },
      adapters: { demo: ehr },
    });
    try {
      const token = await t.login('client@demo.test');
      const [karenId] = await portalIds(t, token);
      const added = await t.gql(ADD.replace('removable }', 'removable syncStatus }'), { c: karenId, d: 'Elke dag een half uur wandelen' }, token);
      expect(added.body.errors).toBeUndefined();
      const goal = (added.body.data.addTreatmentGoal.goals as (Goal & { syncStatus: string | null })[]).find(
        (g) => g.description === 'Elke dag een half uur wandelen',
      );
      expect(goal).toMatchObject({ syncStatus: 'PENDING', addedBy: 'Karen Test' });
      const shown = async () =>
        (
          (await t.gql(PLAN.replace('removable }', 'removable syncStatus }'), { id: karenId }, token)).body.data.client.dossier.treatmentPlan.goals as (Goal & {
            syncStatus: string | null;
          })[]
        ).find((g) => g.description === 'Elke dag een half uur wandelen');
      expect(await shown()).toMatchObject({ syncStatus: 'PENDING' });
      ehr.down = false;
      await until(async () => ((await shown())?.syncStatus === null ? true : undefined), 5000, 'the delivery');
      const record = ehr.data.clients.find((c) => c.client.externalId === 'cl-karen')!;
      expect(record.plan!.goals.filter((g) => g.description === 'Elke dag een half uur wandelen')).toHaveLength(1);
    } finally {
      await t.stop();
    }
  });
});

describe('a goal the EHR refuses', () => {
  it('answers CONFLICT with the plan as the EHR has it now, and logs that read', async () => {
    /** The EHR's plan was changed by the team meanwhile: it refuses the goal as not found there. */
    class MovedEhr extends DemoEhrAdapter {
      override async addTreatmentGoal(): Promise<{ done: false; refusal: 'NOT_FOUND'; reason: string }> {
        return { done: false, refusal: 'NOT_FOUND', reason: 'The plan was replaced by a new version.' };
      }
    }
    const t = await startTestApp({ env: OUTAGE_ENV, adapters: { demo: new MovedEhr() } });
    try {
      const token = await t.login('client@demo.test');
      const [karenId] = await portalIds(t, token);
      const reads = async () => (await t.app.services.audit.list(karenId, 200)).filter((e) => e.eventType === 'dossier.treatmentplan.read').length;
      const before = await reads();
      const { body } = await t.gql(ADD, { c: karenId, d: 'Elke dag een wandeling.' }, token);
      expect(body.errors?.[0]?.extensions).toMatchObject({
        code: 'CONFLICT',
        current: { status: expect.any(String), goals: expect.arrayContaining([expect.objectContaining({ id: 'demo:gl-k-1' })]) },
      });
      expect(await reads()).toBe(before + 1);
    } finally {
      await t.stop();
    }
  });
});

describe('a goal the EHR took while reading the plan again fails (the EHR degrades right after the write)', () => {
  it('answers the plan with the goal, not an error that would make the client add it twice', async () => {
    /** Takes the goal, then stops answering reads of the plan. */
    class DegradingEhr extends DemoEhrAdapter {
      tookGoal = false;
      override async addTreatmentGoal(...args: Parameters<DemoEhrAdapter['addTreatmentGoal']>) {
        const result = await super.addTreatmentGoal(...args);
        this.tookGoal = true;
        return result;
      }
      override async getTreatmentPlan(...args: Parameters<DemoEhrAdapter['getTreatmentPlan']>) {
        if (this.tookGoal) throw Object.assign(new Error('503 from the EHR (simulated)'), { status: 503 });
        return super.getTreatmentPlan(...args);
      }
    }
    const ehr = new DegradingEhr();
    const t = await startTestApp({ env: OUTAGE_ENV, adapters: { demo: ehr } });
    try {
      const token = await t.login('client@demo.test');
      const [karenId] = await portalIds(t, token);
      const { body } = await t.gql(ADD, { c: karenId, d: 'Twee keer per week fietsen.' }, token);
      expect(body.errors).toBeUndefined();
      expect(body.data.addTreatmentGoal.goals).toEqual(
        expect.arrayContaining([expect.objectContaining({ description: 'Twee keer per week fietsen.', addedBy: 'Karen Test', removable: true })]),
      );
      expect(ehr.tookGoal).toBe(true);
    } finally {
      await t.stop();
    }
  });
});
