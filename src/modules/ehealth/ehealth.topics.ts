import type { KoppeltaalTask } from '../../../adapters/ports';
import { topic } from '../../live/topic';

/** A Task of one of the client's modules as it is now (re-read after a Koppeltaal rest-hook). */
export interface EhealthTaskChange {
  clientId: string;
  /** The client's Patient in the Koppeltaal domain. */
  patientId: string;
  task: KoppeltaalTask;
}

export function isEhealthTaskChange(value: unknown): value is EhealthTaskChange {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const task = v.task as Record<string, unknown> | null | undefined;
  return typeof v.clientId === 'string' && typeof v.patientId === 'string' && typeof task?.id === 'string' && typeof task.status === 'string';
}

/** A module's Task changed (EhealthService publishes after a rest-hook; the rooms of ehealthModuleChanged listen). */
export const EHEALTH_TOPIC = topic<EhealthTaskChange>('ehealth', isEhealthTaskChange);
