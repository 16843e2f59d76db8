/**
 * Turns a FHIR R4 Subscription rest-hook notification (the changed resource itself, payload
 * `application/fhir+json`) into the gateway's sync event. Pure: the route stores and processes it.
 *
 * - Communication from a Practitioner to a Patient → `message.created` (a practitioner's message;
 *   a reply in the portal's conversation its topic names, as the portal's own Communications carry it)
 * - Task for a Patient with a Questionnaire as focus, still to do → `questionnaire.assigned`
 * - Appointment (not cancelled) → `appointment.upserted`
 * - DocumentReference in force that the portal did not write itself → `document.published`
 * - anything else about a patient (MedicationStatement, CarePlan, a cancelled Appointment, the
 *   portal's own documents, …) → `dossier.changed`
 * Each drops the client's cached EHR data; the three in between also mail the client's people as
 * their notification settings say (the portal's change mail, never with content).
 *
 * The event id is the resource's version (`fhir:<Type>/<id>/_history/<versionId>`), so the server
 * re-sending the same notification is processed once.
 */

import type { DocumentReference } from '@medplum/fhirtypes';
import { NotificationRefusedError, type EhrNotificationEvent } from '../ports';
import { isClientStory, isOpenTask, PORTAL_CONVERSATION_SYSTEM, PORTAL_DOCUMENT_SYSTEM } from './fhir.mapping';

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
  topic?: { text?: string; coding?: { system?: string; code?: string }[] };
  inResponseTo?: Reference[];
  sent?: string;
  for?: Reference;
  focus?: Reference;
  status?: string;
  identifier?: { system?: string }[];
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
      : (idOf(r.subject, 'Patient') ??
        idOf(r.patient, 'Patient') ??
        idOf(r.for, 'Patient') ??
        r.participant?.map((p) => idOf(p.actor, 'Patient')).find(Boolean) ??
        null);
  if (!patientId) throw new FhirNotificationError(`The ${r.resourceType} names no Patient (subject, patient or participant).`);
  const version = r.meta?.versionId ?? r.meta?.lastUpdated ?? 'unversioned';
  const base = { id: `fhir:${r.resourceType}/${r.id}/_history/${version}`, source, clientId: patientId, occurredAt: r.meta?.lastUpdated };

  const practitionerId = idOf(r.sender, 'Practitioner');
  const body0 = r.payload?.map((p) => p.contentString).find((t) => t && t.trim());
  // The portal's conversation id, where the Communication answers one of the portal's (its topic coding, copied into the reply).
  const conversationId = r.topic?.coding?.find((c) => c.system === PORTAL_CONVERSATION_SYSTEM && c.code)?.code?.slice(0, 128);
  if (r.resourceType === 'Communication' && practitionerId && body0) {
    return {
      ...base,
      type: 'message.created',
      data: {
        practitionerId,
        body: body0.trim().slice(0, 1000),
        ...(r.topic?.text ? { subject: r.topic.text.slice(0, 200) } : {}),
        ...(conversationId ? { conversationId } : {}),
      },
    };
  }
  const questionnaireId = r.resourceType === 'Task' ? idOf(r.focus, 'Questionnaire') : null;
  if (questionnaireId && isOpenTask(r.status ?? '')) return { ...base, type: 'questionnaire.assigned', data: { questionnaireId } };
  if (r.resourceType === 'Appointment' && r.status !== 'cancelled' && r.status !== 'entered-in-error')
    return { ...base, type: 'appointment.upserted', data: {} };
  // What the portal wrote itself (the client's upload, the story) mails nobody about it.
  const ours = r.identifier?.some((i) => i.system === PORTAL_DOCUMENT_SYSTEM) || isClientStory(r as DocumentReference);
  if (r.resourceType === 'DocumentReference' && r.status === 'current' && !ours) return { ...base, type: 'document.published', data: {} };
  return { ...base, type: 'dossier.changed', data: {} };
}
