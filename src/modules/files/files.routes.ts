import type { RouteHandlers } from '../../http/routes';
import type { Logger } from '../../observability/logger';
import type { Services } from '../../services';
import { filesRoute } from './files.route';
import { uploadsRoute } from './uploads.route';

/** The files module's HTTP routes: uploads, and downloads through signed links. */
export function filesRoutes(services: Services, logger: Logger): RouteHandlers {
  const uploads = uploadsRoute(services, logger);
  const files = filesRoute(services, logger);
  return {
    files_upload: (req, res, _url, id) => uploads(req, res, id),
    files: (req, res, url, id) => files(req, res, url, id),
  };
}
