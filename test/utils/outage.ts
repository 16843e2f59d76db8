import { DemoEhrAdapter } from '../../adapters/demo/demo.adapter';
import type { EhrAdapter } from '../../adapters/ports';

/** Settings for a test of the outboxes: quick retries, no breaker in the way, quiet logs. */
export const OUTAGE_ENV = {
  OUTBOX_POLL_MS: '50',
  OUTBOX_RETRY_BASE_MS: '50',
  OUTBOX_RETRY_MAX_MS: '200',
  ADAPTER_BREAKER_THRESHOLD: '1000',
  ADAPTER_RETRIES: '0',
  LOG_LEVEL: 'error',
};

type WriteMethod =
  'saveQuestionnaireAnswers' | 'approve' | 'setConsent' | 'addTreatmentGoal' | 'shareClientStory' | 'uploadDocument' | 'cancelAppointment' | 'sendMessage';

/** The demo EHR with one write endpoint away while `down` (an outage): it answers 503 and counts the tries. */
export function ehrAway(method: WriteMethod): DemoEhrAdapter & { down: boolean; tries: number } {
  const ehr = Object.assign(new DemoEhrAdapter(), { down: true, tries: 0 });
  const real = (ehr[method] as (...args: unknown[]) => unknown).bind(ehr);
  (ehr as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
    ehr.tries++;
    if (ehr.down) return Promise.reject(Object.assign(new Error('503 from the EHR (simulated)'), { status: 503 }));
    return real(...args);
  };
  return ehr as DemoEhrAdapter & { down: boolean; tries: number } & Pick<EhrAdapter, never>;
}
