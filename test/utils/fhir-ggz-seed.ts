import type {
  Appointment,
  Binary,
  CarePlan,
  Condition,
  DocumentReference,
  EpisodeOfCare,
  Goal,
  Location,
  Patient,
  Practitioner,
  Provenance,
  ProvenanceAgent,
  RelatedPerson,
  Resource,
} from '@medplum/fhirtypes';
import type { MemoryRepository } from '@medplum/fhir-router';

export const BSN_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/bsn';
export const INTAKE_QUESTIONNAIRE = 'https://ggz-noord.test/fhir/Questionnaire/intake';
/** Eva Jansen: a client of the (fictitious) FHIR-backed organisation only; passes the 11-proef. */
export const EVA_BSN = '999990056';
/** Karen Test of the demo adapter, also known here: one person at two care organisations. */
export const KAREN_BSN = '999990019';
export const APPOINTMENT_COUNT = 50;
/** Besides those, one multidisciplinair overleg about Eva that she does not attend (organisation-only). */
export const MDO_TYPE = 'Multidisciplinair overleg';
/** Eva's husband, parent with authority of their son Noor-Sem; not a client himself. */
export const PARENT_BSN = '999990068';
export const CHILD_BSN = '999990081';

export interface GgzSeed {
  eva: Patient & { id: string };
  karen: Patient & { id: string };
  child: Patient & { id: string };
  practitioners: Record<'degroot' | 'bakker' | 'elamrani' | 'visser', Practitioner & { id: string }>;
  pdf: Buffer;
  mdo: Appointment & { id: string };
}

const DAY = 86_400_000;

/** A realistic Dutch GGZ dossier in FHIR R4, written straight into the repository (the gateway reads over HTTP). */
export async function seedGgzClient(repo: MemoryRepository, now = new Date()): Promise<GgzSeed> {
  const create = <T extends Resource>(r: T) => repo.createResource<T>(r) as Promise<T & { id: string }>;
  const at = (days: number, hour: number, minute = 0): string => {
    const d = new Date(now.getTime() + days * DAY);
    d.setUTCHours(hour, minute, 0, 0);
    return d.toISOString();
  };

  const practitioner = (given: string, family: string, profession: string, phone: string, email: string, prefix?: string) =>
    create<Practitioner>({
      resourceType: 'Practitioner',
      identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/big', value: String(19000000000 + phone.length * 1234567) }],
      name: [{ use: 'official', family, given: [given], ...(prefix ? { prefix: [prefix] } : {}) }],
      telecom: [
        { system: 'phone', value: phone, use: 'work' },
        { system: 'email', value: email, use: 'work' },
      ],
      qualification: [{ code: { text: profession } }],
    });
  const practitioners = {
    degroot: await practitioner('Marieke', 'de Groot', 'Psychiater', '050 555 0101', 'm.degroot@ggz-noord.test', 'Dr.'),
    bakker: await practitioner('Jeroen', 'Bakker', 'GZ-psycholoog', '050 555 0102', 'j.bakker@ggz-noord.test'),
    elamrani: await practitioner('Fatima', 'El Amrani', 'Psychotherapeut', '050 555 0103', 'f.elamrani@ggz-noord.test'),
    visser: await practitioner('Lotte', 'Visser', 'Sociaal psychiatrisch verpleegkundige', '050 555 0104', 'l.visser@ggz-noord.test'),
  };
  const ref = (r: { resourceType: string; id: string }) => ({ reference: `${r.resourceType}/${r.id}` });

  const eva = await create<Patient>({
    resourceType: 'Patient',
    identifier: [
      { system: BSN_SYSTEM, value: EVA_BSN },
      { system: 'https://ggz-noord.test/fhir/NamingSystem/clientnummer', value: 'C-204815' },
    ],
    active: true,
    name: [{ use: 'official', family: 'Jansen', given: ['Eva', 'Maria'] }],
    gender: 'female',
    birthDate: '1991-04-17',
    address: [{ line: ['Herestraat 12'], city: 'Groningen', postalCode: '9711 LK', country: 'NL' }],
  });
  const pat = ref(eva);
  // Eva's husband in her personal network, permitted to approve her plan; a contact, not a parent.
  const partner = await create<RelatedPerson>({
    resourceType: 'RelatedPerson',
    active: true,
    patient: pat,
    relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'HUSB', display: 'echtgenoot' }] }],
    name: [{ text: 'Bram Jansen' }],
  });
  /** How the EHR records who agreed (akkoord) to what, and when: AUTHEN from R4's ProvenanceActivityType. */
  const akkoord = (target: { resourceType: string; id: string }, who: ProvenanceAgent['who'], recorded: string) =>
    create<Provenance>({
      resourceType: 'Provenance',
      target: [ref(target)],
      recorded,
      activity: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'AUTHEN', display: 'authenticator' }],
        text: 'akkoord',
      },
      agent: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'attester' }] }, who }],
    });

  const condition = await create<Condition>({
    resourceType: 'Condition',
    subject: pat,
    category: [{ text: 'diagnose' }],
    code: {
      coding: [{ system: 'http://snomed.info/sct', code: '370143000', display: 'Major depressive disorder' }],
      text: 'Depressieve stoornis, eenmalige episode, matig',
    },
    recordedDate: at(-60, 9).slice(0, 10),
  });
  const referral = await create({
    resourceType: 'ServiceRequest',
    status: 'completed',
    intent: 'order',
    subject: pat,
    requester: { display: 'Huisartsenpraktijk De Linie, dr. P. Smit' },
    reasonCode: [{ text: 'Somberheid en slaapproblemen sinds een half jaar, uitval op werk' }],
  });
  await create<EpisodeOfCare>({
    resourceType: 'EpisodeOfCare',
    identifier: [{ system: 'https://ggz-noord.test/fhir/NamingSystem/dossiernummer', value: 'DOS-2026-0412' }],
    status: 'active',
    type: [{ text: 'Specialistische GGZ' }],
    diagnosis: [{ condition: ref(condition), rank: 1 }],
    patient: pat,
    period: { start: '2026-03-10' },
    referralRequest: [ref(referral)],
  });

  await create({
    resourceType: 'QuestionnaireResponse',
    questionnaire: `${INTAKE_QUESTIONNAIRE}|2.1`,
    status: 'completed',
    subject: pat,
    authored: '2026-03-12T10:30:00+01:00',
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
        item: [{ linkId: 'leefstijl.1', text: 'Glazen alcohol per week', answer: [{ valueInteger: 4 }] }],
      },
    ],
  });
  // Another questionnaire of the same client that must not be taken for the intake.
  await create({
    resourceType: 'QuestionnaireResponse',
    questionnaire: 'https://ggz-noord.test/fhir/Questionnaire/phq-9',
    status: 'completed',
    subject: pat,
    authored: '2026-04-01T10:00:00+01:00',
    item: [{ linkId: 'phq', text: 'PHQ-9', item: [{ linkId: 'phq.1', text: 'Weinig interesse', answer: [{ valueInteger: 2 }] }] }],
  });

  await create({
    resourceType: 'MedicationStatement',
    status: 'active',
    medicationCodeableConcept: {
      coding: [{ system: 'urn:oid:2.16.840.1.113883.2.4.4.10', code: '67903', display: 'SERTRALINE 50MG TABLET' }],
      text: 'Sertraline 50 mg tablet',
    },
    subject: pat,
    effectivePeriod: { start: '2026-04-01' },
    informationSource: ref(practitioners.degroot),
    dosage: [{ text: '1x per dag 1 tablet, ’s ochtends' }],
  });
  await create({
    resourceType: 'MedicationStatement',
    status: 'completed',
    medicationCodeableConcept: { text: 'Oxazepam 10 mg tablet' },
    subject: pat,
    effectivePeriod: { start: '2026-03-15', end: '2026-03-29' },
    informationSource: ref(practitioners.degroot),
    dosage: [{ text: 'zo nodig 1 tablet, max 2 per dag' }],
  });
  await create({ resourceType: 'MedicationStatement', status: 'entered-in-error', medicationCodeableConcept: { text: 'Verkeerd ingevoerd' }, subject: pat });

  await create({
    resourceType: 'AllergyIntolerance',
    patient: pat,
    code: { text: 'Penicilline' },
    recordedDate: '2018-05-20',
    reaction: [{ manifestation: [{ text: 'Huiduitslag' }] }],
  });
  await create({
    resourceType: 'Flag',
    status: 'active',
    category: [{ text: 'contra-indicatie' }],
    code: { text: 'Geen MRI (pacemaker)' },
    subject: pat,
    period: { start: '2024-11-02' },
  });
  await create({
    resourceType: 'Flag',
    status: 'active',
    category: [{ text: 'veiligheid' }],
    code: { text: 'Niet alleen op huisbezoek' },
    subject: pat,
    period: { start: '2025-01-01' },
  });

  const goals = await Promise.all(
    ['Weer vijf dagen per week werken', 'Minstens zes uur per nacht slapen'].map((text) =>
      create<Goal>({ resourceType: 'Goal', lifecycleStatus: 'active', description: { text }, subject: pat, expressedBy: { ...pat, display: 'Eva Jansen' } }),
    ),
  );
  const plan = await create<CarePlan>({
    resourceType: 'CarePlan',
    status: 'active',
    intent: 'plan',
    title: 'Hoe krijg ik weer grip op mijn stemming?',
    description: 'Depressieve klachten met slaapproblemen en uitval op werk.',
    subject: pat,
    created: '2026-04-02T11:00:00+02:00',
    author: ref(practitioners.degroot),
    contributor: [ref(practitioners.bakker)],
    goal: goals.map(ref),
    activity: [
      {
        detail: {
          status: 'scheduled',
          description: 'Cognitieve gedragstherapie',
          scheduledTiming: { repeat: { count: 12, duration: 45, durationUnit: 'min' } },
        },
      },
      { detail: { status: 'scheduled', description: 'Medicatieconsult', scheduledTiming: { repeat: { count: 3, duration: 30, durationUnit: 'min' } } } },
    ],
  });
  // Approved by Eva's husband for her; the psychiatrist's later signature is not the client's akkoord.
  await akkoord(plan, { ...ref(partner), display: 'Bram Jansen' }, '2026-04-03T19:12:00+02:00');
  await akkoord(plan, ref(practitioners.degroot), '2026-04-05T10:00:00+02:00');
  await create({
    resourceType: 'CareTeam',
    status: 'active',
    subject: pat,
    period: { start: '2026-03-10' },
    participant: [
      { role: [{ text: 'regiebehandelaar' }], member: ref(practitioners.degroot), period: { start: '2026-03-10' } },
      { role: [{ text: 'waarnemend regiebehandelaar' }], member: ref(practitioners.bakker), period: { start: '2026-03-12' } },
      { role: [{ text: 'medebehandelaar' }], member: ref(practitioners.elamrani), period: { start: '2026-04-02' } },
    ],
  });
  await create({
    resourceType: 'Encounter',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'Face-to-face' },
    type: [{ text: 'Intake' }],
    subject: pat,
    participant: [{ individual: ref(practitioners.bakker) }],
    period: { start: '2026-03-12T09:00:00+01:00', end: '2026-03-12T10:30:00+01:00' },
    length: { value: 90, unit: 'minuten', system: 'http://unitsofmeasure.org', code: 'min' },
  });
  await create({
    resourceType: 'Encounter',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR', display: 'Beeldbellen' },
    type: [{ text: 'Cognitieve gedragstherapie' }],
    subject: pat,
    participant: [{ individual: ref(practitioners.elamrani) }],
    period: { start: '2026-04-10T13:00:00+02:00', end: '2026-04-10T13:45:00+02:00' },
    length: { value: 45, unit: 'minuten', system: 'http://unitsofmeasure.org', code: 'min' },
  });

  const room = await create<Location>({ resourceType: 'Location', status: 'active', name: 'Groningen, Spreekkamer 3' });
  const team = [practitioners.degroot, practitioners.bakker, practitioners.elamrani, practitioners.visser];
  const appointments: (Appointment & { id: string })[] = [];
  for (let i = 0; i < APPOINTMENT_COUNT; i++) {
    // Half in the past, half to come, one a week; every fourth by video.
    const start = at((i - APPOINTMENT_COUNT / 2) * 7 + 1, 9 + (i % 6));
    const online = i % 4 === 3;
    appointments.push(
      await create<Appointment>({
        resourceType: 'Appointment',
        status: i < APPOINTMENT_COUNT / 2 ? 'fulfilled' : 'booked',
        ...(online ? { appointmentType: { text: 'Beeldbellen' } } : {}),
        serviceType: [{ text: i === 0 ? 'Intake' : 'Behandeling' }],
        start,
        end: new Date(Date.parse(start) + 45 * 60_000).toISOString(),
        participant: [
          { actor: pat, status: 'accepted' },
          { actor: ref(team[i % team.length]), status: 'accepted' },
          ...(online ? [] : [{ actor: ref(room), status: 'accepted' as const }]),
        ],
      }),
    );
  }

  const mdo = await create<Appointment>({
    resourceType: 'Appointment',
    status: 'booked',
    serviceType: [{ coding: [{ system: 'http://snomed.info/sct', code: '185353001', display: 'Multidisciplinary case conference' }], text: MDO_TYPE }],
    start: at(3, 8, 30),
    end: at(3, 9, 30),
    participant: [
      // Eva is informed of the meeting about her, not invited to it.
      { actor: pat, required: 'information-only', status: 'accepted' },
      { actor: ref(practitioners.degroot), required: 'required', status: 'accepted' },
      { actor: ref(practitioners.bakker), required: 'required', status: 'accepted' },
    ],
  });

  const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1');
  const binary = await create<Binary>({ resourceType: 'Binary', contentType: 'application/pdf', data: pdf.toString('base64') });
  await create<DocumentReference>({
    resourceType: 'DocumentReference',
    status: 'current',
    docStatus: 'final',
    category: [{ text: 'verslag' }],
    subject: pat,
    date: '2026-04-10T14:00:00+02:00',
    description: 'Verslag behandelsessie 1',
    author: [ref(practitioners.elamrani)],
    content: [
      { attachment: { contentType: 'text/plain; charset=utf-8', data: Buffer.from('Cliënte vertelt over haar week; slaapt iets beter.').toString('base64') } },
    ],
    context: { related: [ref(appointments[0])] },
  });
  // A report the client was asked to agree to (akkoord), and did; the EHR leaves it preliminary.
  const advice = await create<DocumentReference>({
    resourceType: 'DocumentReference',
    status: 'current',
    docStatus: 'preliminary',
    category: [{ text: 'verslag' }],
    subject: pat,
    date: '2026-03-20T11:00:00+01:00',
    description: 'Verslag adviesgesprek',
    author: [ref(practitioners.bakker)],
    content: [
      {
        attachment: {
          contentType: 'text/plain; charset=utf-8',
          data: Buffer.from('Behandeladvies besproken: CGT in 12 sessies. Cliënte stemt in.').toString('base64'),
        },
      },
    ],
  });
  await akkoord(advice, pat, '2026-03-21T09:30:00+01:00');
  await create<DocumentReference>({
    resourceType: 'DocumentReference',
    status: 'current',
    docStatus: 'final',
    category: [{ text: 'brief' }],
    subject: pat,
    date: '2026-03-15T09:00:00Z',
    author: [ref(practitioners.degroot)],
    content: [{ attachment: { contentType: 'application/pdf', title: 'Brief aan huisarts.pdf', url: `Binary/${binary.id}` } }],
  });
  // Signed by the client; the EHR finalised it on her akkoord.
  const agreement = await create<DocumentReference>({
    resourceType: 'DocumentReference',
    status: 'current',
    docStatus: 'final',
    category: [{ text: 'behandelovereenkomst' }],
    subject: pat,
    date: '2026-03-12T12:00:00Z',
    author: [{ ...ref(practitioners.bakker), display: 'Jeroen Bakker' }],
    content: [{ attachment: { contentType: 'application/pdf', title: 'Behandelovereenkomst.pdf', data: pdf.toString('base64') } }],
  });
  await akkoord(agreement, pat, '2026-03-14T10:05:00+01:00');
  const awaiting = await create<DocumentReference>({
    resourceType: 'DocumentReference',
    status: 'current',
    docStatus: 'preliminary',
    category: [{ text: 'behandelplan' }],
    subject: pat,
    date: '2026-04-02T12:00:00Z',
    author: [{ ...ref(practitioners.degroot), display: 'Dr. M. de Groot' }],
    content: [{ attachment: { contentType: 'application/pdf', title: 'Behandelplan ter akkoord.pdf', data: pdf.toString('base64') } }],
  });
  // Still waiting for Eva: only her practitioner has signed it.
  await akkoord(awaiting, ref(practitioners.degroot), '2026-04-02T12:05:00Z');

  const karen = await create<Patient>({
    resourceType: 'Patient',
    identifier: [{ system: BSN_SYSTEM, value: KAREN_BSN }],
    name: [{ text: 'Karen Test' }],
    gender: 'female',
    birthDate: '1985-06-01',
  });
  await create({
    resourceType: 'MedicationStatement',
    status: 'active',
    medicationCodeableConcept: { text: 'Quetiapine 25 mg tablet' },
    subject: ref(karen),
    dosage: [{ text: 'voor de nacht 1 tablet' }],
  });

  const child = await create<Patient>({
    resourceType: 'Patient',
    identifier: [{ system: BSN_SYSTEM, value: CHILD_BSN }],
    name: [{ use: 'official', family: 'Jansen', given: ['Noor-Sem'] }],
    gender: 'male',
    birthDate: '2014-02-08',
  });
  await create({
    resourceType: 'RelatedPerson',
    active: true,
    patient: ref(child),
    identifier: [{ system: BSN_SYSTEM, value: PARENT_BSN }],
    relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'FTH', display: 'vader' }] }],
    name: [{ text: 'Bram Jansen' }],
  });
  // A neighbour listed as contact has no authority and must not see the child's portal.
  await create({
    resourceType: 'RelatedPerson',
    active: true,
    patient: ref(child),
    identifier: [{ system: BSN_SYSTEM, value: '999990093' }],
    relationship: [{ text: 'buurvrouw' }],
    name: [{ text: 'Ria Bos' }],
  });

  return { eva, karen, child, practitioners, pdf, mdo };
}
