import type { EhrClient } from '../../adapters/ports';
import { dutchDate } from '../../adapters/ports';
import { PortalRelation } from './permissions';

export type PortalState = 'open' | 'read-only' | 'closed';

export interface PortalRuleSettings {
  /** Days after the last episode closed during which the portal stays fully open. */
  graceDays: number;
  /** Days after the grace period during which the portal can be read but not changed. */
  readOnlyDays: number;
}

const DAY = 86_400_000;

/**
 * Access ends when treatment ends (Tromp): once the EHR reports the last episode closed, the
 * portal stays open for the grace period, is read-only for a while after it, then closes.
 */
export function portalState(client: Pick<EhrClient, 'inTreatment' | 'treatmentEndedAt'> | null, settings: PortalRuleSettings, now = Date.now()): PortalState {
  if (!client || client.inTreatment !== false || !client.treatmentEndedAt) return 'open';
  const since = now - Date.parse(client.treatmentEndedAt);
  if (Number.isNaN(since) || since < settings.graceDays * DAY) return 'open';
  if (since < (settings.graceDays + settings.readOnlyDays) * DAY) return 'read-only';
  return 'closed';
}

/** Whole years between a birth date (YYYY-MM-DD) and now, by the Dutch calendar: a birthday begins at midnight in Amsterdam. */
export function ageInYears(birthDate: string | null | undefined, now = new Date()): number | null {
  if (!birthDate) return null;
  const [y, m, d] = birthDate.split('-').map(Number) as [number, number, number];
  const [ty, tm, td] = dutchDate(now).split('-').map(Number) as [number, number, number];
  let age = ty - y;
  if (tm < m || (tm === m && td < d)) age--;
  return age;
}

/**
 * Minors (WGBO): under 16 a parent with authority sees the child's portal; from 16 the child
 * decides alone, so a parent sees it only with the child's consent.
 */
export function parentMayAccess(relation: PortalRelation, childAge: number | null, childConsented: boolean): boolean {
  if (relation !== PortalRelation.PARENT) return true;
  if (childAge === null || childAge < 16) return true;
  return childConsented;
}
