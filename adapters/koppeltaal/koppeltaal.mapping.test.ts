import type { Task } from '@medplum/fhirtypes';
import { definitionKey, definitionOf, KT2, refId, toKoppeltaalTask } from './koppeltaal.mapping';

const task = (extra: Partial<Task>): Task => ({ resourceType: 'Task', id: 't1', status: 'ready', intent: 'order', for: { reference: 'Patient/p1' }, ...extra });

describe('Koppeltaal mapping', () => {
  it('takes the ActivityDefinition from the instantiates extension before instantiatesCanonical', () => {
    expect(definitionOf(task({ instantiatesCanonical: 'https://x/ActivityDefinition/a2' }))).toBe('https://x/ActivityDefinition/a2');
    expect(
      definitionOf(
        task({
          instantiatesCanonical: 'https://x/ActivityDefinition/a2',
          extension: [{ url: KT2.instantiates, valueReference: { reference: 'ActivityDefinition/a1' } }],
        }),
      ),
    ).toBe('ActivityDefinition/a1');
  });

  it('finds a definition by id when the reference names one (also absolute, with a version), by canonical url otherwise', () => {
    expect(definitionKey('https://server/fhir/ActivityDefinition/762/_history/1')).toEqual({ id: '762' });
    expect(definitionKey('https://modules.example/angst|1.0')).toEqual({ url: 'https://modules.example/angst' });
    expect(refId('Patient/p1', 'Patient')).toBe('p1');
    expect(refId('RelatedPerson/p1', 'Patient')).toBeNull();
  });

  it('reads progress from an output typed progress, clamped to 0–100; the title, launch URL and Device from the definition and its Endpoint', () => {
    const mapped = toKoppeltaalTask(
      task({ output: [{ type: { coding: [{ code: 'progress' }] }, valueDecimal: 120 }], owner: { reference: 'Patient/p1' } }),
      {
        resourceType: 'ActivityDefinition',
        id: 'a1',
        status: 'active',
        title: 'Omgaan met angst',
        extension: [{ url: KT2.resourceOrigin, valueReference: { reference: 'Device/d1' } }],
      },
      { resourceType: 'Endpoint', status: 'active', address: 'https://module/launch', connectionType: {}, payloadType: [] },
    );
    expect(mapped).toMatchObject({
      id: 't1',
      patientId: 'p1',
      owner: 'Patient/p1',
      definition: 'ActivityDefinition/a1',
      title: 'Omgaan met angst',
      launchUrl: 'https://module/launch',
      device: 'Device/d1',
      progress: 100,
    });
  });
});
