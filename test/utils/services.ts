import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';

/**
 * The real services of this machine kind. Suites that need them run when TEST_MARIADB_URL /
 * TEST_REDIS_URL are set (.ci/run sets both) and are skipped, saying so, otherwise.
 */
export const MARIADB_URL = process.env.TEST_MARIADB_URL;
export const REDIS_URL = process.env.TEST_REDIS_URL;

export const describeWithMariaDb = MARIADB_URL ? describe : describe.skip;
export const describeWithRedis = REDIS_URL ? describe : describe.skip;
export const describeWithMariaDbAndRedis = MARIADB_URL && REDIS_URL ? describe : describe.skip;

/** A throwaway database per suite, so runs never collide. */
export async function createMariaDbDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!MARIADB_URL) throw new Error('TEST_MARIADB_URL is not set');
  const name = `ggz_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = await createConnection(MARIADB_URL);
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const url = new URL(MARIADB_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = await createConnection(MARIADB_URL);
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    },
  };
}

/** A Redis key prefix per suite. */
export function redisPrefix(): string {
  return `ggz-test:${Date.now().toString(36)}:${randomBytes(3).toString('hex')}:`;
}
