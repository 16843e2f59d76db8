import type { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import { Permission, PortalRelation } from '../src/auth/permissions';
import { portalIds, startTestApp, type TestApp } from './utils/app';
import { MARIADB_URL } from './utils/services';

const LIST = `query($c: ID!, $s: QuestionnaireStatus) { client(id: $c) { questionnaires(status: $s) {
  id title status assignedAt submittedAt pages { title questions { id text type options required answer } }
} } }`;
const SAVE = `mutation($a: ID!, $answers: [AnswerInput!]!, $submit: Boolean!) { saveQuestionnaireAnswers(assignmentId: $a, answers: $answers, submit: $submit) {
  id status submittedAt pages { questions { id answer } }
} }`;
const PHQ9 = 'demo:vl-k-phq9';
const INTAKE = 'demo:vl-k-intake';

type Assignment = {
  id: string;
  status: string;
  submittedAt: string | null;
  pages: { questions: { id: string; answer: string | null; required?: boolean; options?: string[] }[] }[];
};
const answersOf = (a: Assignment) => Object.fromEntries(a.pages.flatMap((p) => p.questions).map((q) => [q.id, q.answer]));

const configurations = [{ name: 'SQLite', database: 'sqlite' as const }, ...(MARIADB_URL ? [{ name: 'MariaDB', database: 'mariadb' as const }] : [])];

/** Questionnaires (Karify, Caren): assigned in the EHR, a draft in the portal, sent once (a QuestionnaireResponse), then read-only. */
describe.each(configurations)('questionnaires ($name)', ({ database }) => {
  let t: TestApp;
  let token: string;
  let karenId: string;
  let demo: DemoEhrAdapter;
  beforeAll(async () => {
    t = await startTestApp({ database });
    token = await t.login('client@demo.test');
    [karenId] = await portalIds(t, token);
    demo = t.app.services.registry.adapter('demo') as DemoEhrAdapter;
  });
  afterAll(async () => t.stop());

  const list = async (as = token, s?: string) => (await t.gql(LIST, { c: karenId, s }, as)).body.data.client.questionnaires as Assignment[];
  const save = (answers: { questionId: string; value: string | null }[], submit = false, as = token, a = PHQ9) => t.gql(SAVE, { a, answers, submit }, as);

  it('lists what the practitioner assigned, newest first: the open PHQ-9 in pages with its options, the completed evaluation with what was sent', async () => {
    const all = await list();
    expect(all.map((a) => [a.id, a.status])).toEqual([
      [PHQ9, 'OPEN'],
      [INTAKE, 'COMPLETED'],
    ]);
    const phq = all[0];
    expect(phq.pages).toHaveLength(2);
    expect(phq.pages[0].questions).toHaveLength(9);
    expect(phq.pages[0].questions[0]).toMatchObject({
      id: 'phq-1',
      type: 'CHOICE',
      required: true,
      options: ['Helemaal niet', 'Meerdere dagen', 'Meer dan de helft van de dagen', 'Bijna elke dag'],
      answer: null,
    });
    expect(answersOf(all[1])).toEqual({ cijfer: '8', begrepen: 'true' });
    expect((await list(token, 'OPEN')).map((a) => a.id)).toEqual([PHQ9]);
  });

  it('keeps a draft in the portal, resumed on another device; refuses answers that do not fit the question, and a completed questionnaire', async () => {
    const saved = await save([
      { questionId: 'phq-1', value: 'Meerdere dagen' },
      { questionId: 'phq-2', value: 'Helemaal niet' },
    ]);
    expect(saved.body.errors).toBeUndefined();
    expect(answersOf(saved.body.data.saveQuestionnaireAnswers)).toMatchObject({ 'phq-1': 'Meerdere dagen', 'phq-2': 'Helemaal niet', 'phq-3': null });
    const otherDevice = await t.login('client@demo.test');
    expect(answersOf((await list(otherDevice))[0])).toMatchObject({ 'phq-1': 'Meerdere dagen', 'phq-2': 'Helemaal niet' });
    expect(demo.calls.get('saveQuestionnaireAnswers') ?? 0).toBe(0); // a draft stays in the portal

    expect((await save([{ questionId: 'phq-3', value: 'Soms' }])).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', questionId: 'phq-3' });
    expect((await save([{ questionId: 'bestaat-niet', value: 'x' }])).body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      questionId: 'bestaat-niet',
    });
    expect((await save([{ questionId: 'cijfer', value: '9' }], false, token, INTAKE)).body.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await save([{ questionId: 'phq-1', value: 'x' }], false, token, 'demo:vl-nope')).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('lets a network member fill in only with QUESTIONNAIRES_FILL (and DOSSIER_VIEW)', async () => {
    const relative = (await t.app.services.accounts.findByEmail('relative@demo.test'))!;
    await t.app.services.accounts.link(relative.id, karenId, PortalRelation.NETWORK_MEMBER, [Permission.DOSSIER_VIEW], false);
    const viewer = await t.login('relative@demo.test');
    expect((await list(viewer)).map((a) => a.id)).toContain(PHQ9);
    expect((await save([{ questionId: 'phq-3', value: 'Bijna elke dag' }], false, viewer)).body.errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      reason: 'NO_PERMISSION',
    });
    await t.app.services.accounts.link(relative.id, karenId, PortalRelation.NETWORK_MEMBER, [Permission.DOSSIER_VIEW, Permission.QUESTIONNAIRES_FILL], false);
    const filler = await t.login('relative@demo.test');
    expect((await save([{ questionId: 'phq-3', value: 'Bijna elke dag' }], false, filler)).body.errors).toBeUndefined();
  });

  it('sends only when every required question is answered (the draft kept meanwhile), once; then it is read-only', async () => {
    const early = await save([{ questionId: 'phq-4', value: 'Meerdere dagen' }], true);
    expect(early.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', missing: ['phq-5', 'phq-6', 'phq-7', 'phq-8', 'phq-9'] });
    expect(answersOf((await list())[0])).toMatchObject({ 'phq-3': 'Bijna elke dag', 'phq-4': 'Meerdere dagen' });

    const rest = ['phq-5', 'phq-6', 'phq-7', 'phq-8', 'phq-9'].map((questionId) => ({ questionId, value: 'Helemaal niet' }));
    const sent = await save([...rest, { questionId: 'toelichting', value: '  Het gaat iets beter.  ' }], true);
    expect(sent.body.errors).toBeUndefined();
    expect(sent.body.data.saveQuestionnaireAnswers).toMatchObject({ id: PHQ9, status: 'COMPLETED', submittedAt: expect.any(String) });
    expect(answersOf(sent.body.data.saveQuestionnaireAnswers)).toMatchObject({
      'phq-1': 'Meerdere dagen',
      'phq-9': 'Helemaal niet',
      toelichting: 'Het gaat iets beter.',
      'phq-10': null,
    });
    const inEhr = demo.questionnaireAnswers.get('cl-karen:vl-k-phq9')!;
    expect(inEhr).toMatchObject({
      status: 'COMPLETED',
      questionnaire: 'https://ggz-demo.test/fhir/Questionnaire/phq-9',
      by: { name: 'Karen Test', kind: 'CLIENT' },
    });
    expect(inEhr.answers).toHaveLength(11);
    expect(demo.calls.get('saveQuestionnaireAnswers')).toBe(1);

    expect((await save([{ questionId: 'phq-1', value: 'Bijna elke dag' }])).body.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await list(token, 'COMPLETED')).map((a) => a.id)).toEqual([PHQ9, INTAKE]);
    const lines = (await t.app.services.audit.list(karenId, 200)).filter((e) => e.eventType.startsWith('questionnaire.'));
    expect(lines.filter((l) => l.eventType === 'questionnaire.submit')).toEqual([
      expect.objectContaining({ action: 'C', resource: 'Vragenlijst ingevuld: PHQ-9: klachten van de afgelopen twee weken' }),
    ]);
  });
});
