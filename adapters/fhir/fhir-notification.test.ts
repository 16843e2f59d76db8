import { FhirNotificationError, fhirNotificationToEvent } from './fhir-notification';

describe('FHIR Subscription notifications → sync events', () => {
  it('turns a practitioner’s Communication into message.created, versioned and idempotent', () => {
    const event = fhirNotificationToEvent('fhir', {
      resourceType: 'Communication',
      id: 'com-7',
      meta: { versionId: '2', lastUpdated: '2026-11-20T10:00:00Z' },
      status: 'completed',
      subject: { reference: 'Patient/pat-eva' },
      sender: { reference: 'Practitioner/prac-bakker' },
      topic: { text: 'Uw volgende afspraak' },
      payload: [{ contentString: 'Dag Eva, zullen we donderdag om 14:00 bellen?' }],
    });
    expect(event).toEqual({
      id: 'fhir:Communication/com-7/_history/2',
      type: 'message.created',
      source: 'fhir',
      clientId: 'pat-eva',
      occurredAt: '2026-11-20T10:00:00Z',
      data: { practitionerId: 'prac-bakker', body: 'Dag Eva, zullen we donderdag om 14:00 bellen?', subject: 'Uw volgende afspraak' },
    });
  });

  it('turns an assigned questionnaire, an appointment and a published document into the events that mail the client’s people', () => {
    const eva = { reference: 'Patient/pat-eva' };
    expect(
      fhirNotificationToEvent('fhir', {
        resourceType: 'Task',
        id: 't1',
        meta: { versionId: '1' },
        status: 'requested',
        for: eva,
        focus: { reference: 'Questionnaire/phq-9' },
      }),
    ).toMatchObject({ type: 'questionnaire.assigned', clientId: 'pat-eva', data: { questionnaireId: 'phq-9' } });
    // Done already, or a task about something else: no questionnaire to fill in.
    expect(
      fhirNotificationToEvent('fhir', { resourceType: 'Task', id: 't1', status: 'completed', for: eva, focus: { reference: 'Questionnaire/phq-9' } }).type,
    ).toBe('dossier.changed');
    expect(
      fhirNotificationToEvent('fhir', { resourceType: 'Task', id: 't2', status: 'requested', for: eva, focus: { reference: 'ServiceRequest/s1' } }).type,
    ).toBe('dossier.changed');
    // A draft or a Task on hold is not yet (or not now) the client's to fill in: no questionnaire mail.
    for (const status of ['draft', 'on-hold'] as const)
      expect(fhirNotificationToEvent('fhir', { resourceType: 'Task', id: 't3', status, for: eva, focus: { reference: 'Questionnaire/phq-9' } }).type).toBe(
        'dossier.changed',
      );
    expect(
      fhirNotificationToEvent('fhir', {
        resourceType: 'Appointment',
        id: 'ap1',
        meta: { versionId: '5' },
        status: 'booked',
        participant: [{ actor: { reference: 'Practitioner/p1' } }, { actor: eva }],
      }),
    ).toMatchObject({ type: 'appointment.upserted', clientId: 'pat-eva', id: 'fhir:Appointment/ap1/_history/5' });
    expect(fhirNotificationToEvent('fhir', { resourceType: 'Appointment', id: 'ap1', status: 'cancelled', participant: [{ actor: eva }] }).type).toBe(
      'dossier.changed',
    );
    expect(fhirNotificationToEvent('fhir', { resourceType: 'DocumentReference', id: 'd1', status: 'current', subject: eva }).type).toBe('document.published');
    // What the portal wrote itself (the client's upload, the story) mails nobody about it.
    expect(
      fhirNotificationToEvent('fhir', {
        resourceType: 'DocumentReference',
        id: 'd2',
        status: 'current',
        subject: eva,
        identifier: [{ system: 'urn:ggz-portal:document', value: 'x' }],
      }).type,
    ).toBe('dossier.changed');
  });

  it('turns other changes about a patient into dossier.changed', () => {
    expect(
      fhirNotificationToEvent('fhir', {
        resourceType: 'MedicationStatement',
        id: 'm1',
        subject: { reference: 'https://fhir.example/R4/Patient/pat-eva/_history/3' },
      }).clientId,
    ).toBe('pat-eva');
    expect(fhirNotificationToEvent('fhir', { resourceType: 'Patient', id: 'pat-eva' }).type).toBe('dossier.changed');
  });

  it('refuses a body that is no resource, or names no patient', () => {
    expect(() => fhirNotificationToEvent('fhir', { hello: 'world' })).toThrow(FhirNotificationError);
    expect(() => fhirNotificationToEvent('fhir', { resourceType: 'Practitioner', id: 'p1' })).toThrow(/names no Patient/);
  });
});
