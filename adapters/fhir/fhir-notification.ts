/**
 * Turns a FHIR R4 Subscription rest-hook notification (the changed resource itself, payload
 * `application/fhir+json`) into the gateway's sync event. Pure: the route stores and processes it.
 *
 * - Communication from a Practitioner to a Patient → `message.created` (a practitioner's message)
 * - anything else about a patient (Appointment, DocumentReference, MedicationStatement, CarePlan, …)
 *   → `dossier.changed`, which drops the client's cached EHR data
 *
 * The event id is the resource's version (`fhir:<Type>/<id>/_history/<versionId>`), so the server
 * re-sending the same notification is processed once.
 */

import { NotificationRefusedError, type EhrNotificationEvent } from '../ports';

interface Reference {
  reference?: string;
}
interface AnyResource {
  resourceType?: string;
  id?: string;
  meta?: { versionId?: string; lastUpdated?: string };
  subject?: Reference;
  patient?: Reference;
  participant?: { actor?: Reference }[];
  sender?: Reference;
  payload?: { contentString?: string }[];
  topic?: { text?: string };
  inResponseTo?: Reference[];
  sent?: string;
}

export type FhirNotificationEvent = EhrNotificationEvent;

export class FhirNotificationError extends NotificationRefusedError {}

const idOf = (ref: Reference | undefined, type: string): string | null => {
  const m = ref?.reference ? new RegExp(`(?:^|/)${type}/([^/]+)$`).exec(ref.reference.split('/_history')[0]) : null;
  return m ? m[1] : null;
};

export function fhirNotificationToEvent(source: string, body: unknown): FhirNotificationEvent {
  const r = body as AnyResource;
  if (!r || typeof r !== 'object' || typeof r.resourceType !== 'string' || typeof r.id !== 'string') {
    throw new FhirNotificationError('The body must be a FHIR resource with resourceType and id (Subscription payload application/fhir+json).');
  }
  const patientId =
    r.resourceType === 'Patient'
      ? r.id
      : (idOf(r.subject, 'Patient') ?? idOf(r.patient, 'Patient') ?? r.participant?.map((p) => idOf(p.actor, 'Patient')).find(Boolean) ?? null);
  if (!patientId) throw new FhirNotificationError(`The ${r.resourceType} names no Patient (subject, patient or participant).`);
  const version = r.meta?.versionId ?? r.meta?.lastUpdated ?? 'unversioned';
  const base = { id: `fhir:${r.resourceType}/${r.id}/_history/${version}`, source, clientId: patientId, occurredAt: r.meta?.lastUpdated };

  const practitionerId = idOf(r.sender, 'Practitioner');
  const body0 = r.payload?.map((p) => p.contentString).find((t) => t && t.trim());
  if (r.resourceType === 'Communication' && practitionerId && body0) {
    return {
      ...base,
      type: 'message.created',
      data: {
        practitionerId,
        body: body0.trim().slice(0, 1000),
        ...(r.topic?.text ? { subject: r.topic.text.slice(0, 200) } : {}),
        ...(idOf(r.inResponseTo?.[0], 'Communication') ? { conversationId: `fhir:${idOf(r.inResponseTo?.[0], 'Communication')}` } : {}),
      },
    };
  }
  return { ...base, type: 'dossier.changed', data: {} };
}
