import type { RouteHandlers } from '../http/routes';
import type { Logger } from '../observability/logger';
import type { Services } from '../services';
import { fhirHookRoute } from './fhir-hook.route';
import { syncRoute } from './sync.route';
import type { SyncService } from './sync.service';

/** The sync intake's HTTP routes: signed events from practitioner systems, and FHIR rest-hooks. */
export function syncRoutes(services: Services, sync: SyncService, logger: Logger): RouteHandlers {
  const events = syncRoute(services.config, sync, logger, services.metrics, services.limiter);
  const fhirHook = fhirHookRoute(services.config, (name) => services.registry.adapter(name), sync, logger);
  return {
    sync_events: (req, res, _url, id) => events(req, res, id),
    sync_fhir: (req, res, url, id) => fhirHook(req, res, url, id),
  };
}
