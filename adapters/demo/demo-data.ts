import type {
  EhrAllergy,
  EhrAppointment,
  EhrClient,
  EhrContraIndication,
  EhrDocument,
  EhrDossierOverview,
  EhrIntakeReport,
  EhrMedication,
  EhrPractitioner,
  EhrQuestionnaireAssignment,
  EhrConsent,
  EhrInsurance,
  EhrSessionReport,
  EhrTeamMember,
  EhrTreatmentEffort,
  EhrTreatmentPlan,
} from '../ports';

/**
 * Demo data of a fictitious GGZ organisation ("GGZ Demo Amstelland"), shaped like the manuals'
 * examples (Karen Test). BSNs are from the 99999xxxx test range and pass the 11-proef.
 * Dates are relative to `now`, so "upcoming" stays upcoming whenever the demo runs.
 */

export interface DemoClientRecord {
  client: EhrClient & { bsn: string };
  overview: EhrDossierOverview;
  intake: EhrIntakeReport | null;
  medications: EhrMedication[];
  allergies: EhrAllergy[];
  contraIndications: EhrContraIndication[];
  plan: EhrTreatmentPlan | null;
  team: EhrTeamMember[];
  effort: EhrTreatmentEffort;
  reports: EhrSessionReport[];
  /** content: the text of a generated PDF; bytes: a file the client uploaded, as it came. */
  documents: (EhrDocument & { content: string; bytes?: Buffer })[];
  appointments: EhrAppointment[];
  questionnaires?: EhrQuestionnaireAssignment[];
  consents?: EhrConsent[];
  insurance?: EhrInsurance[];
}

export interface DemoData {
  practitioners: EhrPractitioner[];
  clients: DemoClientRecord[];
  /** parent BSN → child external ids */
  parents: Record<string, string[]>;
}

export const DEMO_BSN = {
  karen: '999990019',
  sanne: '999990020',
  daan: '999990032',
  parent: '999990044',
} as const;

/** Who the demo EHR's records are, for the gateway's demo accounts (src/modules/portal/demo-seed.ts). */
export const DEMO_PEOPLE = {
  client: { bsn: DEMO_BSN.karen, externalId: 'cl-karen' },
  parent: { bsn: DEMO_BSN.parent, children: ['cl-sanne', 'cl-daan'] },
} as const;
export type DemoPeople = typeof DEMO_PEOPLE;

const DAY = 86_400_000;

// eslint-disable-next-line max-lines-per-function -- the demo records, written out as data
export function buildDemoData(now: Date = new Date()): DemoData {
  const at = (days: number, hour: number, minute = 0): string => {
    const d = new Date(now.getTime() + days * DAY);
    d.setUTCHours(hour, minute, 0, 0);
    return d.toISOString();
  };
  const date = (days: number): string => at(days, 12).slice(0, 10);

  const practitioners: EhrPractitioner[] = [
    { externalId: 'pr-degroot', name: 'Dr. Marieke de Groot', profession: 'Psychiater', phone: '020 555 0101', email: 'm.degroot@ggz-demo.test' },
    { externalId: 'pr-bakker', name: 'Jeroen Bakker', profession: 'GZ-psycholoog', phone: '020 555 0102', email: 'j.bakker@ggz-demo.test' },
    { externalId: 'pr-elamrani', name: 'Fatima El Amrani', profession: 'Psychotherapeut', phone: '020 555 0103', email: 'f.elamrani@ggz-demo.test' },
    {
      externalId: 'pr-visser',
      name: 'Lotte Visser',
      profession: 'Sociaal psychiatrisch verpleegkundige',
      phone: '020 555 0104',
      email: 'l.visser@ggz-demo.test',
    },
    { externalId: 'pr-jansen', name: 'Ahmed Yilmaz', profession: 'Kinder- en jeugdpsycholoog', phone: '020 555 0105', email: 'a.yilmaz@ggz-demo.test' },
  ];

  const karenAppointments: EhrAppointment[] = [
    {
      externalId: 'ap-k-1',
      start: at(-70, 9),
      end: at(-70, 10, 30),
      type: 'Intake',
      practitionerId: 'pr-bakker',
      location: 'Amstelveen, Spreekkamer 2',
      online: false,
      reportId: 'rp-k-1',
    },
    {
      externalId: 'ap-k-2',
      start: at(-56, 10),
      end: at(-56, 11),
      type: 'Diagnostiek',
      practitionerId: 'pr-degroot',
      location: 'Amstelveen, Spreekkamer 4',
      online: false,
      reportId: 'rp-k-2',
    },
    {
      externalId: 'ap-k-3',
      start: at(-42, 14),
      end: at(-42, 14, 45),
      type: 'Adviesgesprek',
      practitionerId: 'pr-bakker',
      location: 'Amstelveen, Spreekkamer 2',
      online: false,
      reportId: 'rp-k-3',
    },
    {
      externalId: 'ap-k-4',
      start: at(-28, 13),
      end: at(-28, 13, 45),
      type: 'Behandeling',
      practitionerId: 'pr-elamrani',
      location: null,
      online: true,
      reportId: 'rp-k-4',
    },
    {
      externalId: 'ap-k-5',
      start: at(-14, 13),
      end: at(-14, 13, 45),
      type: 'Behandeling',
      practitionerId: 'pr-elamrani',
      location: null,
      online: true,
      reportId: 'rp-k-5',
    },
    {
      externalId: 'ap-k-6',
      start: at(-7, 11),
      end: at(-7, 11, 30),
      type: 'Medicatieconsult',
      practitionerId: 'pr-degroot',
      location: 'Amstelveen, Spreekkamer 4',
      online: false,
      reportId: null,
    },
    { externalId: 'ap-k-7', start: at(3, 13), end: at(3, 13, 45), type: 'Behandeling', practitionerId: 'pr-elamrani', location: null, online: true },
    { externalId: 'ap-k-8', start: at(10, 9, 30), end: at(10, 10), type: 'Huisbezoek', practitionerId: 'pr-visser', location: 'Thuis', online: false },
    { externalId: 'ap-k-9', start: at(17, 13), end: at(17, 13, 45), type: 'Behandeling', practitionerId: 'pr-elamrani', location: null, online: true },
    {
      externalId: 'ap-k-10',
      start: at(24, 15),
      end: at(24, 16),
      type: 'Evaluatie behandelplan',
      practitionerId: 'pr-bakker',
      location: 'Amstelveen, Spreekkamer 2',
      online: false,
    },
    {
      externalId: 'ap-k-11',
      start: at(5, 8, 30),
      end: at(5, 9),
      type: 'Multidisciplinair overleg',
      practitionerId: 'pr-degroot',
      location: 'Amstelveen, Vergaderruimte',
      online: false,
      organisationOnly: true,
    },
  ];

  // PHQ-9 (Nederlandse vertaling, de gebruikelijke vier antwoordopties) and a short intake evaluation.
  const PHQ_OPTIONS = ['Helemaal niet', 'Meerdere dagen', 'Meer dan de helft van de dagen', 'Bijna elke dag'];
  const phq9: EhrQuestionnaireAssignment = {
    externalId: 'vl-k-phq9',
    questionnaire: 'https://ggz-demo.test/fhir/Questionnaire/phq-9',
    title: 'PHQ-9: klachten van de afgelopen twee weken',
    assignedAt: at(-2, 9),
    pages: [
      {
        title: 'Hoe vaak heeft u de afgelopen twee weken last gehad van de volgende problemen?',
        questions: [
          'Weinig interesse of plezier in het doen van dingen',
          'Zich neerslachtig, depressief of hopeloos voelen',
          'Moeite met in slaap vallen of doorslapen, of te veel slapen',
          'Zich moe voelen of weinig energie hebben',
          'Weinig eetlust of overmatig eten',
          'Een slecht gevoel over uzelf, of het gevoel dat u een mislukkeling bent of uzelf of uw familie tekort hebt gedaan',
          'Moeite met concentreren, bijvoorbeeld bij het lezen van de krant of televisiekijken',
          'Zo langzaam bewegen of praten dat het anderen opvalt, of juist zo onrustig zijn dat u veel meer beweegt dan normaal',
          'Gedachten dat u beter dood zou kunnen zijn of dat u uzelf iets zou willen aandoen',
        ].map((text, i) => ({ id: `phq-${i + 1}`, text, type: 'CHOICE' as const, options: PHQ_OPTIONS, required: true })),
      },
      {
        title: 'Tot slot',
        questions: [
          {
            id: 'phq-10',
            text: 'Hoe moeilijk hebben deze problemen het voor u gemaakt om te werken, thuis dingen te doen of met anderen om te gaan?',
            type: 'CHOICE',
            options: ['Helemaal niet moeilijk', 'Enigszins moeilijk', 'Erg moeilijk', 'Extreem moeilijk'],
            required: false,
          },
          { id: 'toelichting', text: 'Wilt u nog iets toelichten?', type: 'TEXT', required: false },
        ],
      },
    ],
  };
  const intakeEvaluation: EhrQuestionnaireAssignment = {
    externalId: 'vl-k-intake',
    questionnaire: 'https://ggz-demo.test/fhir/Questionnaire/evaluatie-intake',
    title: 'Evaluatie van de intake',
    assignedAt: at(-41, 10),
    pages: [
      {
        title: null,
        questions: [
          {
            id: 'cijfer',
            text: 'Welk cijfer geeft u de intake (1 tot 10)?',
            type: 'SCALE',
            options: ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'],
            required: true,
          },
          { id: 'begrepen', text: 'Voelde u zich begrepen?', type: 'BOOLEAN', required: true },
        ],
      },
    ],
    completedAt: at(-40, 20),
    answers: [
      { questionId: 'cijfer', value: '8' },
      { questionId: 'begrepen', value: 'true' },
    ],
  };

  const karen: DemoClientRecord = {
    client: { externalId: 'cl-karen', bsn: DEMO_BSN.karen, name: 'Karen Test', birthDate: '1988-04-12', gender: 'vrouw', inTreatment: true },
    overview: {
      dossierNumber: 'GGZ-2026-00417',
      registrationDate: date(-75),
      registrationReason: 'Aanmelding via huisarts: aanhoudende somberheid, slaapproblemen en paniekaanvallen sinds een half jaar.',
      diagnosis: 'Depressieve stoornis, eenmalige episode, matig (F32.1) met paniekstoornis (F41.0)',
      careDemandType: 'Zorgvraagtype 4: Matige, langer durende niet-psychotische zorgvraag',
    },
    intake: {
      sections: [
        {
          title: 'Aanmelding',
          items: [
            { question: 'Wat is de reden van uw aanmelding?', answer: 'Ik voel me al maanden somber en heb regelmatig paniekaanvallen, vooral in de trein.' },
            { question: 'Wie heeft u verwezen?', answer: 'Mijn huisarts, dokter Smit.' },
          ],
        },
        {
          title: 'Klachten',
          items: [
            { question: 'Sinds wanneer heeft u deze klachten?', answer: 'Sinds ongeveer een half jaar, na een reorganisatie op mijn werk.' },
            { question: 'Hoe slaapt u?', answer: 'Slecht: ik word vaak om vier uur wakker en kan dan niet meer slapen.' },
            { question: 'Heeft u eerder hulp gehad?', answer: 'Vijf gesprekken bij de praktijkondersteuner (POH-GGZ) in 2025.' },
          ],
        },
        {
          title: 'Leefsituatie',
          items: [
            { question: 'Hoe is uw woonsituatie?', answer: 'Ik woon samen met mijn partner in Amstelveen.' },
            { question: 'Werkt u?', answer: 'Ja, 32 uur per week als administratief medewerker; momenteel gedeeltelijk ziek gemeld.' },
            { question: 'Wie kan u steunen?', answer: 'Mijn partner en mijn zus.' },
          ],
        },
      ],
    },
    medications: [
      {
        externalId: 'md-k-1',
        name: 'Sertraline 50 mg tablet',
        dosage: '1 keer per dag 1 tablet, ’s ochtends',
        since: date(-49),
        until: null,
        prescriberId: 'pr-degroot',
      },
      {
        externalId: 'md-k-2',
        name: 'Oxazepam 10 mg tablet',
        dosage: 'Zo nodig 1 tablet, maximaal 2 per dag',
        since: date(-49),
        until: date(-21),
        prescriberId: 'pr-degroot',
      },
    ],
    allergies: [{ externalId: 'al-k-1', substance: 'Penicilline', reaction: 'Huiduitslag en jeuk', recordedAt: date(-70) }],
    contraIndications: [{ externalId: 'ci-k-1', description: 'Geen combinatie met MAO-remmers (serotoninesyndroom)', recordedAt: date(-49) }],
    plan: {
      externalId: 'bp-k-1',
      status: 'AWAITING_APPROVAL',
      careQuestion: 'Ik wil weer plezier hebben in mijn werk en zonder paniek met de trein kunnen reizen.',
      problemDescription: 'Matige depressieve episode met paniekaanvallen, uitgelokt door werkstress; slaapproblemen.',
      indication: 'Kortdurende cognitieve gedragstherapie (16 sessies) met medicatiebegeleiding.',
      explanation: 'We werken aan het herkennen en veranderen van sombere gedachten en oefenen stapsgewijs met situaties die angst oproepen.',
      goals: [
        { externalId: 'gl-k-1', description: 'Binnen drie maanden weer vier dagen per week werken.', addedBy: 'Jeroen Bakker' },
        { externalId: 'gl-k-2', description: 'Zelfstandig met de trein naar Amsterdam reizen.', addedBy: 'Jeroen Bakker' },
        { externalId: 'gl-k-3', description: 'Minstens zes uur per nacht slapen.', addedBy: 'Karen Test', byClient: true },
      ],
      responsiblePractitionerIds: ['pr-bakker', 'pr-degroot'],
      createdAt: at(-40, 10),
      finalisedAt: null,
      approvedAt: null,
      approvedBy: null,
    },
    team: [
      { practitionerId: 'pr-bakker', role: 'LEAD', from: date(-70), until: null },
      { practitionerId: 'pr-degroot', role: 'DEPUTY_LEAD', from: date(-56), until: null },
      { practitionerId: 'pr-elamrani', role: 'CO_PRACTITIONER', from: date(-30), until: null },
      { practitionerId: 'pr-visser', role: 'CO_PRACTITIONER', from: date(-20), until: null },
    ],
    effort: {
      plannedMinutes: 1200,
      activities: [
        { practitionerId: 'pr-bakker', date: date(-70), minutes: 90, activity: 'Intakegesprek', consultType: 'Face-to-face' },
        { practitionerId: 'pr-degroot', date: date(-56), minutes: 60, activity: 'Diagnostisch onderzoek', consultType: 'Face-to-face' },
        { practitionerId: 'pr-bakker', date: date(-42), minutes: 45, activity: 'Adviesgesprek', consultType: 'Face-to-face' },
        { practitionerId: 'pr-elamrani', date: date(-28), minutes: 45, activity: 'Cognitieve gedragstherapie', consultType: 'Beeldbellen' },
        { practitionerId: 'pr-elamrani', date: date(-14), minutes: 45, activity: 'Cognitieve gedragstherapie', consultType: 'Beeldbellen' },
        { practitionerId: 'pr-degroot', date: date(-7), minutes: 30, activity: 'Medicatieconsult', consultType: 'Face-to-face' },
      ],
    },
    reports: [
      {
        externalId: 'rp-k-1',
        date: at(-70, 10, 30),
        title: 'Intakeverslag',
        authorId: 'pr-bakker',
        body: 'Cliënte meldt zich met somberheid en paniekklachten. Motivatie voor behandeling is goed.',
        needsApproval: false,
        appointmentId: 'ap-k-1',
      },
      {
        externalId: 'rp-k-2',
        date: at(-56, 11),
        title: 'Verslag diagnostiek',
        authorId: 'pr-degroot',
        body: 'Klachten passend bij een matige depressieve episode en paniekstoornis. Start sertraline besproken.',
        needsApproval: false,
        appointmentId: 'ap-k-2',
      },
      {
        externalId: 'rp-k-3',
        date: at(-42, 14, 45),
        title: 'Adviesgesprek',
        authorId: 'pr-bakker',
        body: 'Behandeladvies besproken: CGT in 16 sessies. Cliënte stemt in.',
        needsApproval: true,
        approvedAt: at(-41, 9),
        appointmentId: 'ap-k-3',
      },
      {
        externalId: 'rp-k-4',
        date: at(-28, 13, 45),
        title: 'Behandelsessie 1',
        authorId: 'pr-elamrani',
        body: 'Psycho-educatie over paniek; huiswerk: gedachtenschema.',
        needsApproval: false,
        appointmentId: 'ap-k-4',
      },
      {
        externalId: 'rp-k-5',
        date: at(-14, 13, 45),
        title: 'Behandelsessie 2',
        authorId: 'pr-elamrani',
        body: 'Gedachtenschema besproken; eerste blootstellingsoefening gepland.',
        needsApproval: true,
        appointmentId: 'ap-k-5',
      },
    ],
    documents: [
      {
        externalId: 'dc-k-1',
        name: 'Behandelovereenkomst.pdf',
        mediaType: 'application/pdf',
        uploadedBy: 'Jeroen Bakker',
        uploadedAt: at(-42, 15),
        needsApproval: true,
        approvedAt: null,
        content: 'Behandelovereenkomst tussen GGZ Demo Amstelland en Karen Test.',
      },
      {
        externalId: 'dc-k-2',
        name: 'Verwijsbrief huisarts.pdf',
        mediaType: 'application/pdf',
        uploadedBy: 'Secretariaat',
        uploadedAt: at(-75, 9),
        needsApproval: false,
        approvedAt: null,
        content: 'Verwijzing door huisarts Smit wegens somberheid en paniekklachten.',
      },
      {
        externalId: 'dc-k-3',
        name: 'Psycho-educatie paniek.pdf',
        mediaType: 'application/pdf',
        uploadedBy: 'Fatima El Amrani',
        uploadedAt: at(-2, 16),
        needsApproval: false,
        approvedAt: null,
        content: 'Wat is paniek, en wat kunt u er zelf aan doen?',
      },
    ],
    appointments: karenAppointments,
    questionnaires: [phq9, intakeEvaluation],
    insurance: [{ externalId: 'vz-k-2026', insurer: 'Zilveren Kruis', policyNumber: '123456789', from: '2026-01-01', until: '2026-12-31' }],
    consents: [
      { topic: 'huisarts', description: 'Gegevens over mijn behandeling delen met mijn huisarts', granted: true, changedAt: at(-60, 11) },
      { topic: 'rom', description: 'Mijn ROM-vragenlijsten gebruiken om de zorg te verbeteren (anoniem)', granted: true, changedAt: at(-60, 11) },
      { topic: 'onderzoek', description: 'Benaderd worden voor wetenschappelijk onderzoek', granted: false, changedAt: at(-60, 11) },
    ],
  };

  const sanne: DemoClientRecord = {
    client: {
      externalId: 'cl-sanne',
      bsn: DEMO_BSN.sanne,
      name: 'Sanne de Vries',
      birthDate: yearsAgo(now, 14, 3),
      gender: 'vrouw',
      inTreatment: true,
      // On file at the organisation: her login codes go here by SMS (Extenzo), unless she confirmed a number of her own.
      mobilePhone: '+31612340014',
    },
    overview: {
      dossierNumber: 'GGZ-2026-00502',
      registrationDate: date(-60),
      registrationReason: 'Aanmelding via de wijkteamcoach: faalangst en schoolverzuim.',
      diagnosis: 'Sociale angststoornis (F40.1)',
      careDemandType: 'Jeugd: angstklachten',
    },
    intake: null,
    medications: [],
    allergies: [],
    contraIndications: [],
    plan: null,
    team: [
      { practitionerId: 'pr-jansen', role: 'LEAD', from: date(-60), until: null },
      { practitionerId: 'pr-bakker', role: 'DEPUTY_LEAD', from: date(-60), until: null },
    ],
    effort: {
      plannedMinutes: 600,
      activities: [{ practitionerId: 'pr-jansen', date: date(-60), minutes: 60, activity: 'Intakegesprek met ouders', consultType: 'Face-to-face' }],
    },
    reports: [],
    documents: [],
    appointments: [
      {
        externalId: 'ap-s-1',
        start: at(-60, 15),
        end: at(-60, 16),
        type: 'Intake',
        practitionerId: 'pr-jansen',
        location: 'Amstelveen, Jeugdafdeling',
        online: false,
      },
      {
        externalId: 'ap-s-2',
        start: at(6, 15, 30),
        end: at(6, 16, 15),
        type: 'Behandeling',
        practitionerId: 'pr-jansen',
        location: 'Amstelveen, Jeugdafdeling',
        online: false,
      },
    ],
  };

  const daan: DemoClientRecord = {
    client: { externalId: 'cl-daan', bsn: DEMO_BSN.daan, name: 'Daan de Vries', birthDate: yearsAgo(now, 9, 8), gender: 'man', inTreatment: true },
    overview: {
      dossierNumber: 'GGZ-2026-00503',
      registrationDate: date(-30),
      registrationReason: 'Aanmelding via de huisarts: concentratieproblemen en driftbuien.',
      diagnosis: null,
      careDemandType: 'Jeugd: diagnostiek',
    },
    intake: null,
    medications: [],
    allergies: [{ externalId: 'al-d-1', substance: 'Pinda', reaction: 'Benauwdheid', recordedAt: date(-30) }],
    contraIndications: [],
    plan: null,
    team: [
      { practitionerId: 'pr-jansen', role: 'LEAD', from: date(-30), until: null },
      { practitionerId: 'pr-degroot', role: 'DEPUTY_LEAD', from: date(-30), until: null },
    ],
    effort: { plannedMinutes: 300, activities: [] },
    reports: [],
    documents: [],
    appointments: [
      {
        externalId: 'ap-d-1',
        start: at(12, 14),
        end: at(12, 15),
        type: 'Diagnostiek',
        practitionerId: 'pr-jansen',
        location: 'Amstelveen, Jeugdafdeling',
        online: false,
      },
    ],
  };

  return { practitioners, clients: [karen, sanne, daan], parents: { [DEMO_BSN.parent]: ['cl-sanne', 'cl-daan'] } };
}

function yearsAgo(now: Date, years: number, months: number): string {
  const d = new Date(Date.UTC(now.getUTCFullYear() - years, now.getUTCMonth() - months, 15));
  return d.toISOString().slice(0, 10);
}
