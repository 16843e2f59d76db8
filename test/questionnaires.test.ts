import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DemoEhrAdapter } from '../adapters/demo/demo.adapter';
import { until } from './utils/live';
import { ehrAway, OUTAGE_ENV } from './utils/outage';
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

    // Sent is sent: the refusal says so and carries the assignment as it is now.
    expect((await save([{ questionId: 'phq-1', value: 'Bijna elke dag' }])).body.errors?.[0]?.extensions).toEqual({
      code: 'CONFLICT',
      current: { status: 'COMPLETED', completedAt: expect.any(String) },
    });
    expect((await list(token, 'COMPLETED')).map((a) => a.id)).toEqual([PHQ9, INTAKE]);
    const lines = (await t.app.services.audit.list(karenId, 200)).filter((e) => e.eventType.startsWith('questionnaire.'));
    expect(lines.filter((l) => l.eventType === 'questionnaire.submit')).toEqual([
      expect.objectContaining({ action: 'C', resource: 'Vragenlijst ingevuld: PHQ-9: klachten van de afgelopen twee weken' }),
    ]);
  });
});

const PHQ_ALL = [...Array.from({ length: 9 }, (_, i) => ({ questionId: `phq-${i + 1}`, value: 'Meerdere dagen' }))];

describe('questionnaire answers sent while the EHR is away (the EHR write outbox)', () => {
  it('accepts them (COMPLETED, syncStatus PENDING, read-only), and the EHR gets them exactly once when it is back', async () => {
    const ehr = ehrAway('saveQuestionnaireAnswers');
    const t = await startTestApp({ env: OUTAGE_ENV, adapters: { demo: ehr } });
    try {
      const token = await t.login('client@demo.test');
      const [karenId] = await portalIds(t, token);
      const sent = await t.gql(SAVE.replace('id status submittedAt', 'id status submittedAt syncStatus'), { a: PHQ9, answers: PHQ_ALL, submit: true }, token);
      expect(sent.body.errors).toBeUndefined();
      expect(sent.body.data.saveQuestionnaireAnswers).toMatchObject({ status: 'COMPLETED', syncStatus: 'PENDING', submittedAt: expect.any(String) });
      const listed = async () =>
        (
          (await t.gql(LIST.replace('submittedAt', 'submittedAt syncStatus'), { c: karenId }, token)).body.data.client.questionnaires as (Assignment & {
            syncStatus: string | null;
          })[]
        ).find((a) => a.id === PHQ9)!;
      expect(await listed()).toMatchObject({ status: 'COMPLETED', syncStatus: 'PENDING' });
      // Sent is sent: no more changes while it waits for the EHR.
      expect(
        (await t.gql(SAVE, { a: PHQ9, answers: [{ questionId: 'phq-1', value: 'Bijna elke dag' }], submit: false }, token)).body.errors?.[0]?.extensions,
      ).toEqual({ code: 'CONFLICT', current: { status: 'COMPLETED', completedAt: sent.body.data.saveQuestionnaireAnswers.submittedAt } });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(ehr.tries).toBeGreaterThan(1); // retried meanwhile
      const ready = (await (await fetch(`${t.base}/readyz`)).json()) as { outbox: { pending: number } };
      expect(ready.outbox.pending).toBe(1);

      ehr.down = false;
      await until(async () => ((await listed()).syncStatus === null ? true : undefined), 5000, 'the delivery');
      expect(await listed()).toMatchObject({ status: 'COMPLETED', syncStatus: null });
      expect(ehr.questionnaireAnswers.get('cl-karen:vl-k-phq9')).toMatchObject({ status: 'COMPLETED' });
      const rows: { status: string }[] = await t.app.db.query("SELECT status FROM ehr_writes WHERE subject = 'demo:vl-k-phq9'");
      expect(rows).toEqual([{ status: 'delivered' }]);
      expect(((await (await fetch(`${t.base}/readyz`)).json()) as { outbox: { pending: number } }).outbox.pending).toBe(0);
    } finally {
      await t.stop();
    }
  });

  it('delivers after a restart what was accepted before it (rows are picked up at start), once', async () => {
    const dbUrl = `sqlite:${join(mkdtempSync(join(tmpdir(), 'ggz-writes-')), 'portal.sqlite')}`;
    const away = ehrAway('saveQuestionnaireAnswers');
    const first = await startTestApp({ databaseUrl: dbUrl, env: { ...OUTAGE_ENV, OUTBOX_POLL_MS: '600000' }, adapters: { demo: away } });
    try {
      const token = await first.login('client@demo.test');
      expect((await first.gql(SAVE, { a: PHQ9, answers: PHQ_ALL, submit: true }, token)).body.data.saveQuestionnaireAnswers.status).toBe('COMPLETED');
    } finally {
      await first.stop();
    }
    const back = ehrAway('saveQuestionnaireAnswers');
    back.down = false;
    const second = await startTestApp({ databaseUrl: dbUrl, env: OUTAGE_ENV, adapters: { demo: back } });
    try {
      await until(() => (back.questionnaireAnswers.get('cl-karen:vl-k-phq9') ? true : undefined), 5000, 'the delivery after the restart');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(back.tries).toBe(1);
    } finally {
      await second.stop();
    }
  });
});

describe.each(configurations)('questionnaire answers sent from two devices at once ($name)', ({ database }) => {
  it('sends them once: one send wins, the other and a save racing it get CONFLICT, and the sent answers stay read-only', async () => {
    const ehr = ehrAway('saveQuestionnaireAnswers');
    const t = await startTestApp({ database, env: OUTAGE_ENV, adapters: { demo: ehr } });
    try {
      const token = await t.login('client@demo.test');
      const phone = () => t.gql(SAVE, { a: PHQ9, answers: PHQ_ALL, submit: true }, token);
      const laptop = () => t.gql(SAVE, { a: PHQ9, answers: [{ questionId: 'phq-1', value: 'Bijna elke dag' }], submit: false }, token);
      const answers = await Promise.all([phone(), phone(), laptop(), phone()]);
      const sent = answers.filter((r) => r.body.data?.saveQuestionnaireAnswers?.status === 'COMPLETED');
      expect(sent).toHaveLength(1);
      for (const refused of answers.filter((r) => !sent.includes(r) && r.body.errors)) expect(refused.body.errors?.[0]?.extensions?.code).toBe('CONFLICT');
      const rows: { status: string }[] = await t.app.db.query("SELECT status FROM ehr_writes WHERE subject = 'demo:vl-k-phq9'");
      expect(rows).toHaveLength(1);
      // What was sent is what the one winning send saw, and the draft stays sent (not reopened by the save).
      const again = await laptop();
      expect(again.body.errors?.[0]?.extensions?.code).toBe('CONFLICT');
      ehr.down = false;
      await until(() => (ehr.questionnaireAnswers.get('cl-karen:vl-k-phq9') ? true : undefined), 5000, 'the delivery');
      const inEhr = ehr.questionnaireAnswers.get('cl-karen:vl-k-phq9')!;
      const phq1 = inEhr.answers.find((a) => a.questionId === 'phq-1')?.value;
      expect(answersOf(sent[0].body.data.saveQuestionnaireAnswers as Assignment)['phq-1']).toBe(phq1);
    } finally {
      await t.stop();
    }
  });
});
