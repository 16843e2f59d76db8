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

  it('turns other changes about a patient into dossier.changed', () => {
    expect(
      fhirNotificationToEvent('fhir', {
        resourceType: 'Appointment',
        id: 'ap1',
        meta: { versionId: '5' },
        participant: [{ actor: { reference: 'Practitioner/p1' } }, { actor: { reference: 'Patient/pat-eva' } }],
      }),
    ).toMatchObject({
      type: 'dossier.changed',
      clientId: 'pat-eva',
      id: 'fhir:Appointment/ap1/_history/5',
    });
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
