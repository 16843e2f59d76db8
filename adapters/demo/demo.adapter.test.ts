import type { EhrActor } from '../ports';
import { DemoEhrAdapter } from './demo.adapter';

const ctx = { requestId: 'r' };
const karen: EhrActor = { name: 'Karen Test', kind: 'CLIENT' };
const at = '2026-04-11T10:30:00.000Z';

describe('the demo EHR keeps the portal writes in memory', () => {
  test('an akkoord on the treatment agreement and the plan reads back with its time and who gave it; again changes nothing', async () => {
    const demo = new DemoEhrAdapter();
    await expect(demo.approve('cl-karen', { target: 'DOCUMENT', itemId: 'dc-k-1', by: karen, at }, ctx)).resolves.toEqual({ done: true });
    await demo.approve('cl-karen', { target: 'DOCUMENT', itemId: 'dc-k-1', by: karen, at: '2026-04-12T00:00:00.000Z' }, ctx);
    expect((await demo.listDocuments('cl-karen', ctx)).find((d) => d.externalId === 'dc-k-1')).toMatchObject({ needsApproval: true, approvedAt: at });
    await demo.approve('cl-karen', { target: 'TREATMENT_PLAN', itemId: 'bp-k-1', by: { name: 'Ellen Test', kind: 'NETWORK_MEMBER' }, at }, ctx);
    expect(await demo.getTreatmentPlan('cl-karen', ctx)).toMatchObject({ status: 'APPROVED', approvedAt: at, approvedBy: 'Ellen Test' });
    await demo.approve('cl-karen', { target: 'SESSION_REPORT', itemId: 'rp-k-5', by: karen, at }, ctx);
    expect((await demo.listSessionReports('cl-karen', ctx)).find((r) => r.externalId === 'rp-k-5')?.approvedAt).toBe(at);
  });

  test('a letter that asks nothing, or an item of another client, is refused', async () => {
    const demo = new DemoEhrAdapter();
    await expect(demo.approve('cl-karen', { target: 'DOCUMENT', itemId: 'dc-k-2', by: karen, at }, ctx)).resolves.toMatchObject({
      done: false,
      refusal: 'NOT_CHANGEABLE',
    });
    await expect(demo.approve('cl-sanne', { target: 'DOCUMENT', itemId: 'dc-k-1', by: karen, at }, ctx)).resolves.toMatchObject({
      done: false,
      refusal: 'NOT_FOUND',
    });
  });

  test("goals: the client's own can be added (once) and removed until the plan is approved, a practitioner's never", async () => {
    const demo = new DemoEhrAdapter();
    const goal = { goalId: 'g-1', planId: 'bp-k-1', description: 'Elke dag wandelen', addedBy: karen, at };
    await expect(demo.addTreatmentGoal('cl-karen', goal, ctx)).resolves.toEqual({ done: true, id: 'g-1' });
    await demo.addTreatmentGoal('cl-karen', goal, ctx);
    expect((await demo.getTreatmentPlan('cl-karen', ctx))?.goals.filter((g) => g.byClient).map((g) => g.externalId)).toEqual(['gl-k-3', 'g-1']);
    await expect(demo.removeTreatmentGoal('cl-karen', { planId: 'bp-k-1', goalId: 'gl-k-1', removedBy: karen, at }, ctx)).resolves.toMatchObject({
      refusal: 'NOT_CHANGEABLE',
    });
    await expect(demo.removeTreatmentGoal('cl-karen', { planId: 'bp-k-1', goalId: 'g-1', removedBy: karen, at }, ctx)).resolves.toEqual({ done: true });
    await expect(demo.removeTreatmentGoal('cl-karen', { planId: 'bp-k-1', goalId: 'g-1', removedBy: karen, at }, ctx)).resolves.toEqual({ done: true });
    await demo.approve('cl-karen', { target: 'TREATMENT_PLAN', itemId: 'bp-k-1', by: karen, at }, ctx);
    await expect(demo.removeTreatmentGoal('cl-karen', { planId: 'bp-k-1', goalId: 'gl-k-3', removedBy: karen, at }, ctx)).resolves.toMatchObject({
      refusal: 'NOT_CHANGEABLE',
    });
    await expect(demo.addTreatmentGoal('cl-karen', { ...goal, goalId: 'g-2' }, ctx)).resolves.toMatchObject({ refusal: 'NOT_CHANGEABLE' });
    expect((await demo.getTreatmentPlan('cl-karen', ctx))?.goals.map((g) => g.externalId)).toEqual(['gl-k-1', 'gl-k-2', 'gl-k-3']);
  });

  test('a consent per topic, the latest choice wins; questionnaire answers are saved until sent, then read-only', async () => {
    const demo = new DemoEhrAdapter();
    await demo.setConsent('cl-karen', { topic: 'share-gp', granted: true, by: karen, at }, ctx);
    await demo.setConsent('cl-karen', { topic: 'share-gp', granted: false, by: karen, at }, ctx);
    expect(demo.consents.get('cl-karen')?.get('share-gp')?.granted).toBe(false);
    const answers = { assignmentId: 'as-1', questionnaire: 'phq9', by: karen, at, answers: [{ questionId: 'q1', value: 'Soms' }] };
    await expect(demo.saveQuestionnaireAnswers('cl-karen', { ...answers, status: 'IN_PROGRESS' }, ctx)).resolves.toMatchObject({ done: true });
    await expect(demo.saveQuestionnaireAnswers('cl-karen', { ...answers, status: 'COMPLETED' }, ctx)).resolves.toMatchObject({ done: true });
    await expect(demo.saveQuestionnaireAnswers('cl-karen', { ...answers, status: 'COMPLETED' }, ctx)).resolves.toMatchObject({ done: true });
    await expect(
      demo.saveQuestionnaireAnswers('cl-karen', { ...answers, status: 'IN_PROGRESS', answers: [{ questionId: 'q1', value: 'Vaak' }] }, ctx),
    ).resolves.toMatchObject({ refusal: 'NOT_CHANGEABLE' });
    expect(demo.questionnaireAnswers.get('cl-karen:as-1')?.answers[0]?.value).toBe('Soms');
  });
});
