import type { ActivityDefinition, Endpoint, Extension, Reference, Task } from '@medplum/fhirtypes';
import type { KoppeltaalTask } from '../ports';
import { referenceId, referenceKey } from '../fhir/fhir.mapping';

/**
 * Names from the vzvznl Koppeltaal-2.0-FHIR implementation guide (profiles KT2_Task,
 * KT2_ActivityDefinition, KT2_Endpoint; the Koppeltaal 2.0 dev guide's "Compose a launch").
 */
export const KT2 = {
  /** Task → ActivityDefinition as a Reference (since 2023-11-02; instantiatesCanonical cannot be chained in searches). */
  instantiates: 'http://vzvz.nl/fhir/StructureDefinition/instantiates',
  /** ActivityDefinition → the Endpoint of the application that provides the module. */
  endpoint: 'http://koppeltaal.nl/fhir/StructureDefinition/KT2EndpointExtension',
  /** Any resource → the Device (application) that made it; on the ActivityDefinition it names the module provider: the HTI `aud`. */
  resourceOrigin: 'http://koppeltaal.nl/fhir/StructureDefinition/resource-origin',
} as const;

/**
 * How a module reports progress is not fixed by the IG: read from a `Task.output` whose type is
 * coded or named `progress` (a percentage). No official extension URL for it was found.
 */
export const PROGRESS_OUTPUT = 'progress';

function extensionRef(extensions: Extension[] | undefined, url: string): string | null {
  return extensions?.find((e) => e.url === url)?.valueReference?.reference ?? null;
}

/** The id of a relative or absolute reference of that type (history suffix dropped); null for another type. The FHIR adapter's rule. */
export function refId(reference: string | null | undefined, type: string): string | null {
  return reference ? (referenceId({ reference }, type) ?? null) : null;
}

/** `Type/id` of a Reference, or null. */
const relative = (ref: Reference | undefined): string | null => referenceKey(ref) ?? null;

/** What a Task says of its ActivityDefinition: the `instantiates` extension first, `instantiatesCanonical` else. */
export function definitionOf(task: Task): string | null {
  return extensionRef(task.extension, KT2.instantiates) ?? task.instantiatesCanonical ?? null;
}

/** A definition reference → how to find it: by logical id (`ActivityDefinition/<id>`) or by canonical `url`. */
export function definitionKey(definition: string): { id: string } | { url: string } {
  const id = refId(definition.split('|')[0], 'ActivityDefinition');
  return id ? { id } : { url: definition.split('|')[0] };
}

export function isSubtask(task: Task): boolean {
  return !!task.partOf?.length;
}

function progressOf(task: Task): number | null {
  for (const output of task.output ?? []) {
    const named = output.type.text === PROGRESS_OUTPUT || output.type.coding?.some((c) => c.code === PROGRESS_OUTPUT);
    if (!named) continue;
    const value = output.valueInteger ?? output.valueDecimal ?? output.valueQuantity?.value;
    if (typeof value === 'number' && Number.isFinite(value)) return Math.max(0, Math.min(100, Math.round(value)));
  }
  return null;
}

/** A Task with its ActivityDefinition and the definition's Endpoint (either may be missing) as the port's shape. */
export function toKoppeltaalTask(task: Task, definition: ActivityDefinition | undefined, endpoint: Endpoint | undefined): KoppeltaalTask {
  const definitionRef = definition?.id ? `ActivityDefinition/${definition.id}` : definitionOf(task);
  return {
    id: task.id ?? '',
    status: task.status,
    patientId: refId(task.for?.reference, 'Patient'),
    owner: relative(task.owner),
    definition: definitionRef,
    title: definition?.title ?? definition?.name ?? task.description ?? 'eHealth-module',
    description: definition?.description ?? task.description ?? null,
    launchUrl: endpoint?.status === 'active' || endpoint?.status === undefined ? (endpoint?.address ?? null) : null,
    device:
      relative(definition?.extension?.find((e) => e.url === KT2.resourceOrigin)?.valueReference) ??
      relative(task.extension?.find((e) => e.url === KT2.resourceOrigin)?.valueReference),
    progress: progressOf(task),
    lastModified: task.lastModified ?? task.meta?.lastUpdated ?? null,
    updatedAt: task.meta?.lastUpdated ?? null,
  };
}
