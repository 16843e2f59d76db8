import 'reflect-metadata';
import { ConfigError, loadConfig } from './config';
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from './modules/portal/demo-seed';
import { createApp } from './server';

/** The process entry: parse config (one clear line on a wrong value), start, stop on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const app = await createApp(config);
  const base = await app.start();
  const { logger } = app;
  if (config.generatedSecrets.length)
    logger.warn({ generated: config.generatedSecrets }, 'development secrets were generated for this run; set them in production');
  logger.info({ url: `${base}/graphql`, adapters: config.EHR_ADAPTERS, database: config.database.type, redis: Boolean(config.REDIS_URL) }, 'gateway listening');

  if (!config.isProduction) printWelcome(base, config.DEV_LOGIN);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    app
      .stop()
      .then(() => process.exit(0))
      .catch((err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

function printWelcome(base: string, devLogin: boolean): void {
  const lines = [
    '',
    `GGZ portal gateway on ${base}/graphql (HTTP and graphql-ws). Open it in a browser for Apollo Sandbox.`,
    `Health: ${base}/healthz  Ready: ${base}/readyz  Metrics: ${base}/metrics`,
  ];
  if (devLogin) {
    lines.push(
      `The reference portal page: ${base}/ (examples/portal-web; log in as a demo account). From another origin: CORS_ORIGINS=http://localhost:5173 npm start, then npm run portal-web.`,
      `Demo accounts: ${Object.values(DEMO_ACCOUNTS).join(', ')} (client with a full dossier, parent of two, network member with AGENDA_VIEW, no portals)`,
      `  password login: mutation login(email, password: "${DEMO_PASSWORD}"), then verifyLoginCode with the code printed in this log`,
      'Try it:',
      `  TOKEN=$(curl -s -X POST ${base}/auth/dev/login -H 'content-type: application/json' -d '{"email":"client@demo.test"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).accessToken')`,
      `  curl -s ${base}/graphql -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
      `    -d '{"query":"{ me { displayName portals { relation client { id name dashboard { upcomingAppointmentCount dossierPartCount nextAppointment { start type practitioner { name } } } } } } }"}'`,
    );
  }
  console.log(lines.join('\n') + '\n');
}

main().catch((err) => {
  console.error(`the gateway could not start: ${(err as Error).message}`);
  process.exit(1);
});
