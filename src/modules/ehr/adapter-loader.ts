import type { EhrAdapter } from '../../../adapters/ports';
import { DemoEhrAdapter } from '../../../adapters/demo/demo.adapter';
import { ConfigError, type Config } from '../../config';

type AdapterFactory = (config: Config) => EhrAdapter;

/** The one place that turns EHR_ADAPTERS names into adapters (Medplum's storage loader, for EHRs). */
const factories: Record<string, AdapterFactory> = {
  demo: () => new DemoEhrAdapter(),
  fhir: () => {
    throw new ConfigError('EHR_ADAPTERS', "names 'fhir', but the FHIR adapter is not part of this build yet");
  },
};

/** Builds the configured adapters in EHR_ADAPTERS order; `given` replaces one by name (tests, benchmarks). */
export function loadAdapters(config: Config, given: Record<string, EhrAdapter> = {}): EhrAdapter[] {
  return config.EHR_ADAPTERS.map((name) => given[name] ?? factories[name]!(config));
}
