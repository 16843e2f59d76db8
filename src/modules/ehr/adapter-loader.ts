import type { EhrAdapter } from '../../../adapters/ports';
import { DemoEhrAdapter } from '../../../adapters/demo/demo.adapter';
import { FhirEhrAdapter, fhirAuthFrom } from '../../../adapters/fhir/fhir.adapter';
import { ConfigError, type Config } from '../../config';

type AdapterFactory = (config: Config) => EhrAdapter;

/** The one place that turns EHR_ADAPTERS names into adapters (Medplum's storage loader, for EHRs). */
const factories: Record<string, AdapterFactory> = {
  demo: () => new DemoEhrAdapter(),
  fhir: (config) => {
    // loadConfig already insists on FHIR_BASE_URL with 'fhir'; this guards configs built by hand.
    if (!config.FHIR_BASE_URL) throw new ConfigError('FHIR_BASE_URL', "is required when EHR_ADAPTERS names 'fhir'");
    return new FhirEhrAdapter({
      baseUrl: config.FHIR_BASE_URL,
      auth: fhirAuthFrom(config),
      intakeQuestionnaire: config.FHIR_INTAKE_QUESTIONNAIRE,
      inlineAttachmentMaxBytes: config.FHIR_INLINE_ATTACHMENT_MAX_BYTES,
    });
  },
};

/** Builds the configured adapters in EHR_ADAPTERS order; `given` replaces one by name (tests, benchmarks). */
export function loadAdapters(config: Config, given: Record<string, EhrAdapter> = {}): EhrAdapter[] {
  return config.EHR_ADAPTERS.map((name) => given[name] ?? factories[name]!(config));
}
