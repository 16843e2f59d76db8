import type {
  AllergyIntolerance,
  Appointment,
  CarePlan,
  CareTeam,
  Condition,
  DocumentReference,
  Encounter,
  EpisodeOfCare,
  Flag,
  Goal,
  Location,
  MedicationStatement,
  Patient,
  Practitioner,
  Provenance,
  QuestionnaireResponse,
  Reference,
  ServiceRequest,
} from '@medplum/fhirtypes';
import type { EhrActor } from '../ports';
import {
  actorReference,
  approvalsByTarget,
  approvalTag,
  type Approvals,
  isClientApproval,
  isClientGoal,
  isClientSide,
  PORTAL_ASSIGNMENT_SYSTEM,
  PORTAL_CONSENT_SYSTEM,
  PORTAL_GOAL_SYSTEM,
  sameAnswers,
  toAnswer,
  toApprovalProvenance,
  fromConsent,
  toConsent,
  toPortalGoal,
  toQuestionnaireResponse,
  withGoal,
  withoutGoal,
  isContraIndication,
  isOrganisationOnly,
  isIntakeQuestionnaire,
  isSessionReport,
  type Resolve,
  toAllergy,
  toAppointment,
  toClient,
  toDate,
  toContraIndication,
  toDocument,
  toDossierOverview,
  toIntakeReport,
  toMedication,
  toPractitioner,
  toSessionReport,
  toTeamMembers,
  toTeamRole,
  toTreatmentEffort,
  toTreatmentPlan,
  toDateTime,
  referenceId,
  reportsByAppointment,
} from './fhir.mapping';

/** A resolver over a fixed set of resources, as the adapter builds from a bundle's includes. */
function resolver(...resources: { resourceType: string; id?: string }[]): Resolve {
  return <T extends { resourceType: string }>(ref: Reference | undefined, type: string): T | undefined => {
    const id = referenceId(ref, type);
    return resources.find((r) => r.resourceType === type && r.id === id) as T | undefined;
  };
}
const none = resolver();
const noApprovals: Approvals = new Map();

/** The akkoord as this adapter reads it: AUTHEN in R4's ProvenanceActivityType, with the Dutch word. */
const AKKOORD = {
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'AUTHEN', display: 'authenticator' }],
  text: 'akkoord',
};
const ATTESTER = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'attester', display: 'Attester' }] };

/** A Provenance as an EHR records who agreed to what, and when. */
function provenance(id: string, target: string, who: string, recorded: string, activity: Provenance['activity'] = AKKOORD): Provenance {
  return { resourceType: 'Provenance', id, target: [{ reference: target }], recorded, activity, agent: [{ type: ATTESTER, who: { reference: who } }] };
}

const patient: Patient = {
  resourceType: 'Patient',
  id: 'pat-1',
  identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: '999990056' }],
  name: [{ use: 'official', family: 'Jansen', given: ['Eva', 'Maria'] }],
  gender: 'female',
  birthDate: '1991-04-17',
};

describe('Patient → client', () => {
  test('name is given names + family when name[0].text is absent', () => {
    expect(toClient(patient)).toEqual({ externalId: 'pat-1', name: 'Eva Maria Jansen', birthDate: '1991-04-17', gender: 'female' });
  });
  test('name[0].text wins over the parts', () => {
    expect(toClient({ ...patient, name: [{ text: 'E.M. Jansen', family: 'Jansen' }] }).name).toBe('E.M. Jansen');
  });
  test('a finished last episode means not in treatment, ended at its period end', () => {
    const episodes: EpisodeOfCare[] = [
      {
        resourceType: 'EpisodeOfCare',
        status: 'finished',
        patient: { reference: 'Patient/pat-1' },
        period: { start: '2023-01-02', end: '2024-06-30T12:00:00+02:00' },
      },
    ];
    expect(toClient(patient, episodes)).toMatchObject({ inTreatment: false, treatmentEndedAt: '2024-06-30T10:00:00.000Z' });
  });
  test('treatment ended at the latest episode end by time, whatever the offsets', () => {
    const ended = (end: string): EpisodeOfCare => ({
      resourceType: 'EpisodeOfCare',
      status: 'finished',
      patient: { reference: 'Patient/pat-1' },
      period: { start: '2023-01-02', end },
    });
    // 09:00+01:00 is 08:00Z, before 08:30Z (by text it sorts after).
    expect(toClient(patient, [ended('2026-03-10T08:30:00Z'), ended('2026-03-10T09:00:00+01:00')]).treatmentEndedAt).toBe('2026-03-10T08:30:00.000Z');
  });
});

describe('FHIR dates → the port’s whole dates', () => {
  test('a dateTime gives its date; a partial date (year, year-month) its first day; anything else nothing', () => {
    expect(toDate('2024-06-30T12:00:00+02:00')).toBe('2024-06-30');
    expect(toDate('2019')).toBe('2019-01-01');
    expect(toDate('2024-03')).toBe('2024-03-01');
    expect(toDate('soon')).toBeNull();
    expect(toDate(undefined)).toBeNull();
  });
  test('a medication since 2019 and a team member since March 2024 are read, not refused by the Date scalar', () => {
    expect(
      toMedication({
        resourceType: 'MedicationStatement',
        status: 'active',
        subject: { reference: 'Patient/pat-1' },
        medicationCodeableConcept: { text: 'Sertraline 50 mg' },
        effectivePeriod: { start: '2019' },
      }).since,
    ).toBe('2019-01-01');
    expect(toClient({ ...patient, birthDate: '1991-04' }).birthDate).toBe('1991-04-01');
  });
});

test('Practitioner → name, qualification text as profession, phone and e-mail from telecom', () => {
  const p: Practitioner = {
    resourceType: 'Practitioner',
    id: 'pr-1',
    name: [{ family: 'Groot', prefix: ['Dr.'], given: ['Marieke'] }],
    telecom: [
      { system: 'email', value: 'm.degroot@ggz-noord.test' },
      { system: 'phone', value: '050 555 0101', use: 'work' },
    ],
    qualification: [{ code: { coding: [{ system: 'urn:oid:2.16.840.1.113883.2.4.15.111', code: '01.015', display: 'Arts' }], text: 'Psychiater' } }],
  };
  expect(toPractitioner(p)).toEqual({
    externalId: 'pr-1',
    name: 'Dr. Marieke Groot',
    profession: 'Psychiater',
    phone: '050 555 0101',
    email: 'm.degroot@ggz-noord.test',
  });
});

describe('EpisodeOfCare → overview', () => {
  const condition: Condition = {
    resourceType: 'Condition',
    id: 'cond-1',
    subject: { reference: 'Patient/pat-1' },
    code: {
      coding: [{ system: 'http://snomed.info/sct', code: '35489007', display: 'Depressive disorder' }],
      text: 'Depressieve stoornis, eenmalige episode, matig',
    },
  };
  const referral: ServiceRequest = {
    resourceType: 'ServiceRequest',
    id: 'sr-1',
    status: 'completed',
    intent: 'order',
    subject: { reference: 'Patient/pat-1' },
    reasonCode: [{ text: 'Somberheid en slaapproblemen sinds een half jaar' }],
  };
  const active: EpisodeOfCare = {
    resourceType: 'EpisodeOfCare',
    id: 'eoc-2',
    identifier: [{ system: 'urn:oid:2.16.840.1.113883.2.4.3.11.999.1', value: 'DOS-2025-0412' }],
    status: 'active',
    type: [{ text: 'Specialistische GGZ' }],
    diagnosis: [
      { condition: { reference: 'Condition/cond-0', display: 'Gegeneraliseerde angststoornis' }, rank: 2 },
      { condition: { reference: 'Condition/cond-1' }, rank: 1 },
    ],
    patient: { reference: 'Patient/pat-1' },
    period: { start: '2025-03-10' },
    referralRequest: [{ reference: 'ServiceRequest/sr-1' }],
  };
  const old: EpisodeOfCare = {
    resourceType: 'EpisodeOfCare',
    id: 'eoc-1',
    status: 'finished',
    patient: { reference: 'Patient/pat-1' },
    period: { start: '2019-01-01', end: '2019-12-01' },
  };

  test('the active episode with its rank-1 diagnosis and referral reason', () => {
    expect(toDossierOverview([old, active], resolver(condition, referral))).toEqual({
      dossierNumber: 'DOS-2025-0412',
      registrationDate: '2025-03-10',
      careDemandType: 'Specialistische GGZ',
      diagnosis: 'Depressieve stoornis, eenmalige episode, matig',
      registrationReason: 'Somberheid en slaapproblemen sinds een half jaar',
    });
  });
  test('diagnosis falls back to coding[0].display when the condition has no text', () => {
    const bare = { ...condition, code: { coding: condition.code!.coding } };
    expect(toDossierOverview([active], resolver(bare))?.diagnosis).toBe('Depressive disorder');
  });
  test('no episode means no overview', () => {
    expect(toDossierOverview([], none)).toBeNull();
  });
});

describe('QuestionnaireResponse → intake report', () => {
  const qr: QuestionnaireResponse = {
    resourceType: 'QuestionnaireResponse',
    id: 'qr-1',
    status: 'completed',
    questionnaire: 'https://ggz-noord.test/fhir/Questionnaire/intake|2.1',
    subject: { reference: 'Patient/pat-1' },
    authored: '2025-03-12T10:30:00+01:00',
    item: [
      {
        linkId: 'hulpvraag',
        text: 'Hulpvraag',
        item: [
          { linkId: 'hulpvraag.1', text: 'Waarvoor zoekt u hulp?', answer: [{ valueString: 'Ik ben al maanden somber en slaap slecht.' }] },
          { linkId: 'hulpvraag.2', text: 'Eerder in behandeling geweest?', answer: [{ valueBoolean: false }] },
        ],
      },
      {
        linkId: 'leefstijl',
        text: 'Leefstijl',
        item: [
          { linkId: 'leefstijl.1', text: 'Glazen alcohol per week', answer: [{ valueInteger: 4 }] },
          { linkId: 'leefstijl.2', text: 'Werksituatie', answer: [{ valueCoding: { code: 'ziek', display: 'Ziek gemeld' } }] },
          { linkId: 'leefstijl.3', text: 'Toelichting' },
        ],
      },
    ],
  };
  test('matches the configured questionnaire by id, canonical or versioned canonical', () => {
    expect(isIntakeQuestionnaire(qr, 'intake')).toBe(true);
    expect(isIntakeQuestionnaire(qr, 'https://ggz-noord.test/fhir/Questionnaire/intake')).toBe(true);
    expect(isIntakeQuestionnaire({ ...qr, questionnaire: 'Questionnaire/phq9' }, 'intake')).toBe(false);
  });
  test('top-level groups are sections; answers as text', () => {
    expect(toIntakeReport(qr)).toEqual({
      sections: [
        {
          title: 'Hulpvraag',
          items: [
            { question: 'Waarvoor zoekt u hulp?', answer: 'Ik ben al maanden somber en slaap slecht.' },
            { question: 'Eerder in behandeling geweest?', answer: 'Nee' },
          ],
        },
        {
          title: 'Leefstijl',
          items: [
            { question: 'Glazen alcohol per week', answer: '4' },
            { question: 'Werksituatie', answer: 'Ziek gemeld' },
            { question: 'Toelichting', answer: null },
          ],
        },
      ],
    });
  });
});

test('MedicationStatement → medication with period and prescriber', () => {
  const m: MedicationStatement = {
    resourceType: 'MedicationStatement',
    id: 'ms-1',
    status: 'active',
    medicationCodeableConcept: {
      coding: [{ system: 'urn:oid:2.16.840.1.113883.2.4.4.10', code: '67903', display: 'SERTRALINE 50MG TABLET' }],
      text: 'Sertraline 50 mg tablet',
    },
    subject: { reference: 'Patient/pat-1' },
    effectivePeriod: { start: '2025-04-01T09:00:00+02:00' },
    informationSource: { reference: 'Practitioner/pr-1', display: 'Dr. M. de Groot' },
    dosage: [{ text: '1x per dag 1 tablet, ’s ochtends' }],
  };
  expect(toMedication(m)).toEqual({
    externalId: 'ms-1',
    name: 'Sertraline 50 mg tablet',
    dosage: '1x per dag 1 tablet, ’s ochtends',
    since: '2025-04-01',
    until: null,
    prescriberId: 'pr-1',
  });
});

test('AllergyIntolerance → substance, first manifestation, recorded date', () => {
  const a: AllergyIntolerance = {
    resourceType: 'AllergyIntolerance',
    id: 'al-1',
    patient: { reference: 'Patient/pat-1' },
    code: { text: 'Penicilline' },
    recordedDate: '2018-05-20T14:00:00+02:00',
    reaction: [{ manifestation: [{ coding: [{ system: 'http://snomed.info/sct', code: '271807003', display: 'Huiduitslag' }] }] }],
  };
  expect(toAllergy(a)).toEqual({ externalId: 'al-1', substance: 'Penicilline', reaction: 'Huiduitslag', recordedAt: '2018-05-20' });
});

test('only Flags with category contra-indicatie are contra-indications', () => {
  const flag: Flag = {
    resourceType: 'Flag',
    id: 'fl-1',
    status: 'active',
    category: [{ text: 'contra-indicatie' }],
    code: { text: 'Geen MRI (pacemaker)' },
    subject: { reference: 'Patient/pat-1' },
    period: { start: '2024-11-02' },
  };
  const other: Flag = { ...flag, id: 'fl-2', category: [{ text: 'veiligheid' }], code: { text: 'Agressie' } };
  expect([flag, other].filter(isContraIndication).map(toContraIndication)).toEqual([
    { externalId: 'fl-1', description: 'Geen MRI (pacemaker)', recordedAt: '2024-11-02' },
  ]);
});

describe('CarePlan → treatment plan and planned effort', () => {
  const goal: Goal = {
    resourceType: 'Goal',
    id: 'goal-1',
    lifecycleStatus: 'active',
    description: { text: 'Weer vijf dagen per week werken' },
    subject: { reference: 'Patient/pat-1' },
    expressedBy: { reference: 'Patient/pat-1', display: 'Eva Jansen' },
  };
  const plan: CarePlan = {
    resourceType: 'CarePlan',
    id: 'cp-2',
    status: 'on-hold',
    intent: 'plan',
    title: 'Hoe krijg ik weer grip op mijn stemming?',
    description: 'Depressieve klachten met uitval op werk.',
    subject: { reference: 'Patient/pat-1' },
    created: '2025-04-02T11:00:00+02:00',
    author: { reference: 'Practitioner/pr-1' },
    contributor: [{ reference: 'Practitioner/pr-2' }, { reference: 'Practitioner/pr-1' }],
    goal: [{ reference: 'Goal/goal-1' }],
    addresses: [{ reference: 'Condition/cond-1', display: 'Depressieve stoornis, matig' }],
    note: [{ text: 'Eerst slaap op orde, daarna werkhervatting.' }],
    activity: [
      {
        detail: {
          status: 'scheduled',
          kind: 'Appointment',
          description: 'CGT',
          scheduledTiming: { repeat: { count: 12, duration: 45, durationUnit: 'min', frequency: 1, period: 1, periodUnit: 'wk' } },
        },
      },
      { detail: { status: 'not-started', description: 'Medicatieconsult', scheduledTiming: { repeat: { count: 3, duration: 0.5, durationUnit: 'h' } } } },
      { detail: { status: 'cancelled', description: 'Groep', scheduledTiming: { repeat: { count: 8, duration: 90, durationUnit: 'min' } } } },
    ],
  };
  const older: CarePlan = { ...plan, id: 'cp-1', status: 'completed', created: '2024-01-01', title: 'Oud plan' };

  test('the latest plan: status, care question, problem, goals and responsible practitioners', () => {
    expect(toTreatmentPlan([older, plan], resolver(goal), noApprovals)).toEqual({
      externalId: 'cp-2',
      status: 'AWAITING_APPROVAL',
      careQuestion: 'Hoe krijg ik weer grip op mijn stemming?',
      problemDescription: 'Depressieve klachten met uitval op werk.',
      indication: 'Depressieve stoornis, matig',
      explanation: 'Eerst slaap op orde, daarna werkhervatting.',
      goals: [{ externalId: 'goal-1', description: 'Weer vijf dagen per week werken', addedBy: 'Eva Jansen', byClient: true }],
      responsiblePractitionerIds: ['pr-1', 'pr-2'],
      createdAt: '2025-04-02T09:00:00.000Z',
      approvedAt: null,
      approvedBy: null,
    });
  });

  test("an agreed plan's approvedAt is the latest akkoord of the client or a representative; a practitioner's signature is not one", () => {
    const agreed: CarePlan = { ...plan, status: 'active' };
    const approvals = approvalsByTarget([
      provenance('pv-1', 'CarePlan/cp-2', 'Patient/pat-1', '2025-04-03T19:12:00+02:00'),
      provenance('pv-2', 'CarePlan/cp-2', 'RelatedPerson/rp-partner', '2025-04-04T08:00:00+02:00'),
      provenance('pv-3', 'CarePlan/cp-2', 'Practitioner/pr-1', '2025-04-05T10:00:00+02:00'),
    ]);
    expect(toTreatmentPlan([older, agreed], resolver(goal), approvals)).toMatchObject({ status: 'APPROVED', approvedAt: '2025-04-04T06:00:00.000Z' });
  });

  test("approvedBy is the approving agent's display, else the name of the Patient or RelatedPerson it references", () => {
    const agreed: CarePlan = { ...plan, status: 'active' };
    const displayed: Provenance = {
      ...provenance('pv-1', 'CarePlan/cp-2', 'Patient/pat-1', '2025-04-03T19:12:00+02:00'),
      agent: [{ who: { reference: 'Patient/pat-1', display: 'E. Jansen' } }],
    };
    const named = approvalsByTarget([displayed]);
    expect(toTreatmentPlan([agreed], resolver(goal), named)).toMatchObject({ approvedBy: 'E. Jansen' });
    const bare = approvalsByTarget([provenance('pv-2', 'CarePlan/cp-2', 'RelatedPerson/rp-1', '2025-04-03T19:12:00+02:00')]);
    const partner = { resourceType: 'RelatedPerson', id: 'rp-1', patient: { reference: 'Patient/pat-1' }, name: [{ given: ['Tom'], family: 'Jansen' }] };
    expect(toTreatmentPlan([agreed], resolver(goal, partner), bare)).toMatchObject({ approvedBy: 'Tom Jansen' });
    expect(toTreatmentPlan([agreed], resolver(goal), bare)).toMatchObject({ approvedAt: '2025-04-03T17:12:00.000Z', approvedBy: null });
  });

  test("a cancelled goal is no longer in the plan; a practitioner's goal is not the client's to remove", () => {
    const practitioners: Goal = { ...goal, id: 'goal-2', expressedBy: { reference: 'Practitioner/pr-1', display: 'Jeroen Bakker' } };
    const withdrawn: Goal = { ...goal, id: 'goal-3', lifecycleStatus: 'cancelled' };
    const three: CarePlan = { ...plan, goal: [{ reference: 'Goal/goal-1' }, { reference: 'Goal/goal-2' }, { reference: 'Goal/goal-3' }] };
    expect(toTreatmentPlan([three], resolver(goal, practitioners, withdrawn), noApprovals)?.goals).toEqual([
      { externalId: 'goal-1', description: 'Weer vijf dagen per week werken', addedBy: 'Eva Jansen', byClient: true },
      { externalId: 'goal-2', description: 'Weer vijf dagen per week werken', addedBy: 'Jeroen Bakker', byClient: false },
    ]);
  });

  test('a plan back on hold awaits a new akkoord, so an earlier one does not show', () => {
    const approvals = approvalsByTarget([provenance('pv-1', 'CarePlan/cp-2', 'Patient/pat-1', '2025-04-03T19:12:00+02:00')]);
    expect(toTreatmentPlan([plan], resolver(goal), approvals)).toMatchObject({ status: 'AWAITING_APPROVAL', approvedAt: null });
  });

  test('planned minutes = Σ scheduledTiming duration × count, cancelled activities excluded; realised from finished encounters', () => {
    const encounters: Encounter[] = [
      {
        resourceType: 'Encounter',
        id: 'enc-1',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'Face-to-face' },
        type: [{ text: 'Cognitieve gedragstherapie' }],
        subject: { reference: 'Patient/pat-1' },
        participant: [{ individual: { reference: 'Practitioner/pr-2' } }],
        period: { start: '2025-04-10T13:00:00+02:00', end: '2025-04-10T13:45:00+02:00' },
        length: { value: 45, unit: 'minuten', system: 'http://unitsofmeasure.org', code: 'min' },
      },
      {
        resourceType: 'Encounter',
        id: 'enc-2',
        status: 'finished',
        class: { code: 'VR', display: 'Beeldbellen' },
        type: [{ text: 'Medicatieconsult' }],
        subject: { reference: 'Patient/pat-1' },
        participant: [{ individual: { reference: 'Practitioner/pr-1' } }],
        period: { start: '2025-05-01T09:00:00+02:00', end: '2025-05-01T09:20:00+02:00' },
      },
      {
        resourceType: 'Encounter',
        id: 'enc-3',
        status: 'planned',
        class: { code: 'AMB' },
        participant: [{ individual: { reference: 'Practitioner/pr-1' } }],
        period: { start: '2026-01-01' },
      },
    ];
    expect(toTreatmentEffort([older, plan], encounters)).toEqual({
      plannedMinutes: 12 * 45 + 3 * 30,
      activities: [
        { practitionerId: 'pr-2', date: '2025-04-10', minutes: 45, activity: 'Cognitieve gedragstherapie', consultType: 'Face-to-face' },
        { practitionerId: 'pr-1', date: '2025-05-01', minutes: 20, activity: 'Medicatieconsult', consultType: 'Beeldbellen' },
      ],
    });
  });
});

test('CareTeam roles: regiebehandelaar → LEAD, waarnemend regiebehandelaar → DEPUTY_LEAD, others → CO_PRACTITIONER', () => {
  const team: CareTeam = {
    resourceType: 'CareTeam',
    id: 'ct-1',
    status: 'active',
    subject: { reference: 'Patient/pat-1' },
    period: { start: '2025-03-10' },
    participant: [
      { role: [{ text: 'regiebehandelaar' }], member: { reference: 'Practitioner/pr-1' }, period: { start: '2025-03-10' } },
      { role: [{ text: 'Waarnemend regiebehandelaar' }], member: { reference: 'Practitioner/pr-2' }, period: { start: '2025-03-12', end: '2025-12-31' } },
      { role: [{ text: 'medebehandelaar' }], member: { reference: 'Practitioner/pr-3' } },
      { role: [{ text: 'huisarts' }], member: { reference: 'Organization/huisartsenpraktijk' } },
    ],
  };
  const inactive: CareTeam = { ...team, id: 'ct-0', status: 'inactive', participant: [{ member: { reference: 'Practitioner/pr-9' } }] };
  expect(toTeamMembers([inactive, team])).toEqual([
    { practitionerId: 'pr-1', role: 'LEAD', from: '2025-03-10', until: null },
    { practitionerId: 'pr-2', role: 'DEPUTY_LEAD', from: '2025-03-12', until: '2025-12-31' },
    { practitionerId: 'pr-3', role: 'CO_PRACTITIONER', from: '2025-03-10', until: null },
  ]);
  expect(toTeamRole(undefined)).toBe('CO_PRACTITIONER');
});

describe('DocumentReference → session reports and documents', () => {
  const report: DocumentReference = {
    resourceType: 'DocumentReference',
    id: 'doc-r1',
    status: 'current',
    docStatus: 'final',
    category: [{ text: 'verslag' }],
    subject: { reference: 'Patient/pat-1' },
    date: '2025-04-10T14:00:00+02:00',
    description: 'Verslag behandelsessie 1',
    author: [{ reference: 'Practitioner/pr-2' }],
    content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: Buffer.from('Cliënte vertelt over haar week.').toString('base64') } }],
    context: { related: [{ reference: 'Appointment/ap-1' }] },
  };
  const letter: DocumentReference = {
    resourceType: 'DocumentReference',
    id: 'doc-1',
    status: 'current',
    docStatus: 'preliminary',
    category: [{ text: 'brief' }],
    subject: { reference: 'Patient/pat-1' },
    date: '2025-03-15T09:00:00Z',
    author: [{ reference: 'Practitioner/pr-1' }],
    content: [{ attachment: { contentType: 'application/pdf', title: 'Brief aan huisarts.pdf', url: 'Binary/bin-1' } }],
  };
  const author: Practitioner = { resourceType: 'Practitioner', id: 'pr-1', name: [{ text: 'Dr. Marieke de Groot' }] };

  test('category verslag marks a report: date, description as title, author, text body, appointment', () => {
    expect([report, letter].filter(isSessionReport)).toEqual([report]);
    expect(toSessionReport(report, noApprovals)).toEqual({
      externalId: 'doc-r1',
      date: '2025-04-10T12:00:00.000Z',
      title: 'Verslag behandelsessie 1',
      authorId: 'pr-2',
      body: 'Cliënte vertelt over haar week.',
      needsApproval: false,
      approvedAt: null,
      appointmentId: 'ap-1',
    });
  });
  test('a report pointing at an appointment links them; other documents do not', () => {
    expect(reportsByAppointment([report, { ...letter, context: { related: [{ reference: 'Appointment/ap-2' }] } }])).toEqual(new Map([['ap-1', 'doc-r1']]));
  });
  test('other documents: attachment title and type, author name, preliminary needs approval', () => {
    expect(toDocument(letter, resolver(author), noApprovals)).toEqual({
      externalId: 'doc-1',
      name: 'Brief aan huisarts.pdf',
      mediaType: 'application/pdf',
      uploadedBy: 'Dr. Marieke de Groot',
      uploadedAt: '2025-03-15T09:00:00.000Z',
      needsApproval: true,
      approvedAt: null,
    });
  });
  test('a report or document that needs approval has approvedAt null until the client gives akkoord, then its recorded time', () => {
    const asked: DocumentReference = { ...report, id: 'doc-r2', docStatus: 'preliminary', description: 'Verslag adviesgesprek' };
    expect(toSessionReport(asked, noApprovals)).toMatchObject({ needsApproval: true, approvedAt: null });
    const approvals = approvalsByTarget([
      provenance('pv-1', 'DocumentReference/doc-r2', 'Patient/pat-1', '2025-04-11T10:30:00+02:00'),
      provenance('pv-2', 'DocumentReference/doc-1', 'Patient/pat-1', '2025-03-16T09:00:00Z'),
    ]);
    expect(toSessionReport(asked, approvals)).toMatchObject({ needsApproval: true, approvedAt: '2025-04-11T08:30:00.000Z' });
    expect(toDocument(letter, none, approvals)).toMatchObject({ needsApproval: true, approvedAt: '2025-03-16T09:00:00.000Z' });
    // An EHR that finalises the document on akkoord: still one that asked, now approved (as the demo adapter says it).
    expect(toDocument({ ...letter, docStatus: 'final' }, none, approvals)).toMatchObject({ needsApproval: true, approvedAt: '2025-03-16T09:00:00.000Z' });
    expect(toDocument({ ...letter, docStatus: 'final' }, none, noApprovals)).toMatchObject({ needsApproval: false, approvedAt: null });
  });
});

describe('Appointment', () => {
  const location: Location = { resourceType: 'Location', id: 'loc-1', name: 'Groningen, Spreekkamer 3' };
  const base: Appointment = {
    resourceType: 'Appointment',
    id: 'ap-1',
    status: 'booked',
    serviceType: [{ text: 'Behandeling' }],
    start: '2025-04-10T13:00:00+02:00',
    end: '2025-04-10T13:45:00+02:00',
    participant: [
      { actor: { reference: 'Patient/pat-1' }, status: 'accepted' },
      { actor: { reference: 'Practitioner/pr-2' }, status: 'accepted' },
      { actor: { reference: 'Location/loc-1' }, status: 'accepted' },
    ],
  };
  test('type from serviceType when appointmentType is absent; practitioner; location name', () => {
    expect(toAppointment(base, resolver(location), 'pat-1')).toEqual({
      externalId: 'ap-1',
      start: '2025-04-10T11:00:00.000Z',
      end: '2025-04-10T11:45:00.000Z',
      type: 'Behandeling',
      practitionerId: 'pr-2',
      location: 'Groningen, Spreekkamer 3',
      online: false,
      organisationOnly: false,
    });
  });
  test('appointmentType says video → online; appointmentType text wins as type', () => {
    const video = {
      ...base,
      appointmentType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0276', code: 'FOLLOWUP' }], text: 'Beeldbellen' },
    };
    expect(toAppointment(video, none, 'pat-1')).toMatchObject({ type: 'Beeldbellen', online: true, location: null });
  });
  test('an appointment without a practitioner is left out', () => {
    expect(toAppointment({ ...base, participant: [base.participant[0]] }, none, 'pat-1')).toBeNull();
  });
  test('the client informed but not attending (participant required: information-only) makes an organisation-only appointment', () => {
    const mdo: Appointment = {
      ...base,
      id: 'ap-mdo',
      serviceType: [
        { coding: [{ system: 'http://snomed.info/sct', code: '185353001', display: 'Multidisciplinary case conference' }], text: 'Multidisciplinair overleg' },
      ],
      participant: [
        { actor: { reference: 'Patient/pat-1', display: 'Eva Jansen' }, required: 'information-only', status: 'accepted' },
        { actor: { reference: 'Practitioner/pr-1' }, required: 'required', status: 'accepted' },
        { actor: { reference: 'Practitioner/pr-2' }, required: 'required', status: 'tentative' },
      ],
    };
    expect(toAppointment(mdo, none, 'pat-1')).toMatchObject({
      externalId: 'ap-mdo',
      type: 'Multidisciplinair overleg',
      practitionerId: 'pr-1',
      organisationOnly: true,
    });
    expect(isOrganisationOnly({ ...base, participant: [{ ...base.participant[0], required: 'required' }, base.participant[1]] }, 'pat-1')).toBe(false);
  });
  test("in a group session another patient's information-only role does not hide it from this client", () => {
    const group: Appointment = {
      ...base,
      serviceType: [{ text: 'Groepstherapie' }],
      participant: [...base.participant, { actor: { reference: 'Patient/pat-2' }, required: 'information-only', status: 'accepted' }],
    };
    expect(isOrganisationOnly(group, 'pat-1')).toBe(false);
    expect(isOrganisationOnly(group, 'pat-2')).toBe(true);
  });
});

describe('Provenance → client approval', () => {
  test('an akkoord by the client (Patient) or a representative (RelatedPerson) counts, by AUTHEN, LA or the word akkoord', () => {
    expect(isClientApproval(provenance('pv-1', 'DocumentReference/d1', 'Patient/pat-1', '2025-04-11T10:30:00Z'))).toBe(true);
    expect(isClientApproval(provenance('pv-2', 'DocumentReference/d1', 'RelatedPerson/rp-1', '2025-04-11T10:30:00Z', { text: 'Akkoord' }))).toBe(true);
    const legal = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DocumentCompletion', code: 'LA', display: 'legally authenticated' }] };
    expect(isClientApproval(provenance('pv-3', 'DocumentReference/d1', 'Patient/pat-1', '2025-04-11T10:30:00Z', legal))).toBe(true);
  });
  test('a practitioner\'s akkoord, a client\'s edit (v3 DataOperation UPDATE) and "niet akkoord" are no client approval', () => {
    expect(isClientApproval(provenance('pv-1', 'DocumentReference/d1', 'Practitioner/pr-1', '2025-04-11T10:30:00Z'))).toBe(false);
    const update = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'UPDATE', display: 'revise' }] };
    expect(isClientApproval(provenance('pv-2', 'DocumentReference/d1', 'Patient/pat-1', '2025-04-11T10:30:00Z', update))).toBe(false);
    expect(isClientApproval(provenance('pv-3', 'DocumentReference/d1', 'Patient/pat-1', '2025-04-11T10:30:00Z', { text: 'niet akkoord' }))).toBe(false);
    expect(
      isClientApproval({ ...provenance('pv-4', 'DocumentReference/d1', 'Patient/pat-1', '2025-04-11T10:30:00Z'), agent: [{ who: { display: 'Eva Jansen' } }] }),
    ).toBe(false);
  });
  test('several approvals of one target: the latest recorded wins; absolute and versioned targets key by type and id', () => {
    const approved: DocumentReference = { resourceType: 'DocumentReference', id: 'd1', status: 'current', content: [] };
    const approvals = approvalsByTarget([
      provenance('pv-1', 'DocumentReference/d1', 'Patient/pat-1', '2025-04-11T12:30:00+02:00'),
      provenance('pv-2', 'https://ehr.ggz-noord.test/fhir/R4/DocumentReference/d1/_history/3', 'RelatedPerson/rp-1', '2025-04-11T10:45:00Z'),
      provenance('pv-3', 'DocumentReference/d1', 'Patient/pat-1', '2025-04-09T10:00:00Z'),
      provenance('pv-4', 'DocumentReference/d1', 'Practitioner/pr-1', '2025-05-01T10:00:00Z'),
      approved,
    ]);
    expect(approvals).toEqual(new Map([['DocumentReference/d1', { at: '2025-04-11T10:45:00.000Z', by: null, who: { reference: 'RelatedPerson/rp-1' } }]]));
  });
});

test('partial FHIR dates become full ISO date-times', () => {
  expect(toDateTime('2025')).toBe('2025-01-01T00:00:00.000Z');
  expect(toDateTime('2025-04-10')).toBe('2025-04-10T00:00:00.000Z');
  expect(toDateTime(undefined)).toBeNull();
});

describe('what the portal writes', () => {
  const client: EhrActor = { name: 'Eva Jansen', kind: 'CLIENT' };
  const mother: EhrActor = { name: 'Ria Jansen', kind: 'PARENT' };
  const member: EhrActor = { name: 'Tom Jansen', kind: 'NETWORK_MEMBER' };
  const doc: DocumentReference = {
    resourceType: 'DocumentReference',
    id: 'd1',
    meta: { versionId: '3' },
    status: 'current',
    docStatus: 'preliminary',
    content: [],
  };

  test("the client's akkoord is a Provenance the reader counts, with who approved; a representative acts on the client's behalf", () => {
    const own = toApprovalProvenance('pat-1', doc, { by: client, at: '2025-04-11T10:30:00.000Z' });
    expect(own).toMatchObject({
      target: [{ reference: 'DocumentReference/d1' }],
      recorded: '2025-04-11T10:30:00.000Z',
      agent: [{ who: { reference: 'Patient/pat-1', display: 'Eva Jansen' } }],
    });
    expect(own.agent[0].onBehalfOf).toBeUndefined();
    const parent = toApprovalProvenance('pat-1', doc, { by: mother, at: '2025-04-11T10:30:00.000Z' });
    expect(parent.agent[0]).toMatchObject({
      who: { type: 'RelatedPerson', display: 'Ria Jansen' },
      onBehalfOf: { reference: 'Patient/pat-1' },
      role: [{ text: 'ouder met gezag' }],
    });
    for (const p of [own, parent]) expect(isClientApproval(p)).toBe(true);
    expect(approvalsByTarget([parent]).get('DocumentReference/d1')).toMatchObject({ at: '2025-04-11T10:30:00.000Z', by: 'Ria Jansen' });
  });

  test('an approval is tagged by target and version: a retry finds it, a new version asks anew', () => {
    expect(approvalTag(doc)).toBe('DocumentReference-d1-3');
    expect(approvalTag({ ...doc, meta: { versionId: '4' } })).not.toBe(approvalTag(doc));
    expect(toApprovalProvenance('pat-1', doc, { by: client, at: '2025-04-11T10:30:00Z' }).meta?.tag?.[0]?.code).toBe('DocumentReference-d1-3');
  });

  test('the client side is a Patient or RelatedPerson: referenced, or named with its type; a practitioner or a bare name is not', () => {
    expect(isClientSide(actorReference('pat-1', member))).toBe(true);
    // FHIR allows the type as an absolute StructureDefinition URL (Medplum's types allow only the short name).
    expect(isClientSide({ type: 'http://hl7.org/fhir/StructureDefinition/RelatedPerson', display: 'Tom' } as unknown as Reference)).toBe(true);
    expect(isClientSide({ type: 'Practitioner', display: 'Dr. de Groot' })).toBe(false);
    expect(isClientSide({ type: 'RelatedPerson' })).toBe(false);
    expect(isClientSide({ display: 'Tom' })).toBe(false);
  });

  test("a client's goal: proposed, expressed by them, with the portal's goal id; added to a plan once, removed entirely", () => {
    const goal = toPortalGoal('pat-1', { goalId: 'g-1', planId: 'cp-1', description: 'Elke dag wandelen', addedBy: mother, at: '2025-04-11T10:30:00Z' });
    expect(goal).toMatchObject({
      identifier: [{ system: PORTAL_GOAL_SYSTEM, value: 'g-1' }],
      lifecycleStatus: 'proposed',
      description: { text: 'Elke dag wandelen' },
      subject: { reference: 'Patient/pat-1' },
      expressedBy: { type: 'RelatedPerson', display: 'Ria Jansen' },
    });
    expect(isClientGoal(goal)).toBe(true);
    expect(isClientGoal({ ...goal, identifier: [], expressedBy: { reference: 'Practitioner/pr-1' } })).toBe(false);
    const plan: CarePlan = {
      resourceType: 'CarePlan',
      status: 'on-hold',
      intent: 'plan',
      subject: { reference: 'Patient/pat-1' },
      goal: [{ reference: 'Goal/a' }],
    };
    const added = withGoal(plan, 'Goal/b');
    expect(added.goal).toEqual([{ reference: 'Goal/a' }, { reference: 'Goal/b' }]);
    expect(withGoal(added, 'Goal/b')).toBe(added);
    expect(withoutGoal({ ...added, goal: [...added.goal!, { reference: 'https://ehr.test/fhir/Goal/b/_history/2' }] }, 'Goal/b').goal).toEqual([
      { reference: 'Goal/a' },
    ]);
  });

  test('a consent given is active with a permit provision, withdrawn it is rejected with a deny; one identifier per topic', () => {
    const given = toConsent('pat-1', {
      topic: 'share-gp',
      description: 'Gegevens delen met de huisarts',
      granted: true,
      by: client,
      at: '2025-04-11T10:30:00Z',
    });
    expect(given).toMatchObject({
      identifier: [{ system: PORTAL_CONSENT_SYSTEM, value: 'share-gp' }],
      status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }], text: 'Gegevens delen met de huisarts' }],
      patient: { reference: 'Patient/pat-1' },
      dateTime: '2025-04-11T10:30:00Z',
      performer: [{ reference: 'Patient/pat-1' }],
      policyRule: { coding: [{ code: 'OPTIN' }] },
      provision: { type: 'permit' },
    });
    expect(toConsent('pat-1', { topic: 'share-gp', granted: false, by: client, at: '2025-04-12T10:30:00Z' })).toMatchObject({
      status: 'rejected',
      provision: { type: 'deny' },
    });
  });

  test('answers typed as their question asks (read back as text by the intake mapping), text where they do not fit', () => {
    expect(toAnswer('SCALE', '3')).toEqual({ valueInteger: 3 });
    expect(toAnswer('SCALE', '2.5')).toEqual({ valueDecimal: 2.5 });
    expect(toAnswer('BOOLEAN', 'Ja')).toEqual({ valueBoolean: true });
    expect(toAnswer('BOOLEAN', 'nee')).toEqual({ valueBoolean: false });
    expect(toAnswer('DATE', '2025-04-11')).toEqual({ valueDate: '2025-04-11' });
    expect(toAnswer('SCALE', 'weet niet')).toEqual({ valueString: 'weet niet' });
    expect(toAnswer('CHOICE', 'Soms')).toEqual({ valueString: 'Soms' });
  });

  test("a questionnaire's answers: one response per assignment, an unanswered question without an answer", () => {
    const input = {
      assignmentId: 'as-1',
      questionnaire: 'https://ggz-noord.test/fhir/Questionnaire/phq9',
      status: 'IN_PROGRESS' as const,
      answers: [
        { questionId: 'q1', question: 'Hoe slaapt u?', value: 'Slecht' },
        { questionId: 'q2', type: 'SCALE' as const, value: '' },
      ],
      by: member,
      at: '2025-04-11T10:30:00Z',
    };
    const qr = toQuestionnaireResponse('pat-1', input);
    expect(qr).toEqual({
      resourceType: 'QuestionnaireResponse',
      identifier: { system: PORTAL_ASSIGNMENT_SYSTEM, value: 'as-1' },
      questionnaire: 'https://ggz-noord.test/fhir/Questionnaire/phq9',
      status: 'in-progress',
      subject: { reference: 'Patient/pat-1' },
      authored: '2025-04-11T10:30:00Z',
      author: { type: 'RelatedPerson', display: 'Tom Jansen' },
      source: { type: 'RelatedPerson', display: 'Tom Jansen' },
      item: [{ linkId: 'q1', text: 'Hoe slaapt u?', answer: [{ valueString: 'Slecht' }] }, { linkId: 'q2' }],
    });
    expect(sameAnswers(qr, { ...qr, status: 'completed', authored: '2025-04-12T08:00:00Z' })).toBe(true);
    expect(sameAnswers(qr, toQuestionnaireResponse('pat-1', { ...input, answers: [input.answers[0], { ...input.answers[1], value: '2' }] }))).toBe(false);
  });
});

describe('Consent → the client’s consents', () => {
  const karen: EhrActor = { name: 'Karen Test', kind: 'CLIENT' };
  it('reads back what the portal writes, and an EHR’s own consent by its provision code', () => {
    const written = toConsent('p1', { topic: 'huisarts', description: 'Delen met de huisarts', granted: false, by: karen, at: '2026-11-30T10:00:00.000Z' });
    expect(fromConsent(written)).toEqual({ topic: 'huisarts', description: 'Delen met de huisarts', granted: false, changedAt: '2026-11-30T10:00:00.000Z' });
    expect(
      fromConsent({
        resourceType: 'Consent',
        status: 'active',
        scope: { text: 'privacy' },
        category: [{ text: 'Onderzoek' }],
        provision: { type: 'permit', code: [{ coding: [{ system: 'https://ehr.test/consent', code: 'onderzoek' }], text: 'Benaderd worden voor onderzoek' }] },
        dateTime: '2026-01-02T09:00:00+01:00',
      }),
    ).toEqual({ topic: 'onderzoek', description: 'Benaderd worden voor onderzoek', granted: true, changedAt: '2026-01-02T09:00:00+01:00' });
    expect(fromConsent({ resourceType: 'Consent', status: 'entered-in-error', scope: { text: 'x' }, category: [{ text: 'x' }] })).toBeNull();
  });
});
