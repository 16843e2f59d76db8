import { PRODUCTION_ENV } from '../test/factories';
import { ConfigError, loadConfig } from './config';

const fail = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (err) {
    return err as ConfigError;
  }
  throw new Error('expected a configuration error');
};

describe('configuration', () => {
  it('runs on embedded defaults with nothing set', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(4000);
    expect(config.database).toEqual({ type: 'sqlite', path: 'data/portal.sqlite' });
    expect(config.EHR_ADAPTERS).toEqual(['demo']);
    expect(config.generatedSecrets).toEqual(['SESSION_SECRET', 'SYNC_SECRET']);
  });

  it('names the variable of a wrong value', () => {
    expect(fail({ PORT: 'abc' }).message).toMatch(/^configuration error: PORT /);
    expect(fail({ DATABASE_URL: 'ftp://x' }).message).toMatch(/^configuration error: DATABASE_URL must be mysql:\/\//);
    expect(fail({ EHR_ADAPTERS: 'demo,epic' }).variable).toBe('EHR_ADAPTERS');
    expect(fail({ EHR_ADAPTERS: 'fhir' }).variable).toBe('FHIR_BASE_URL');
    expect(fail({ REDIS_URL: 'localhost:6379' }).variable).toBe('REDIS_URL');
  });

  it('refuses to start in production with dev login, without secrets, or on SQLite', () => {
    const prod = { ...PRODUCTION_ENV };
    expect(loadConfig(prod).isProduction).toBe(true);
    expect(fail({ ...prod, PUBLIC_URL: '' }).variable).toBe('PUBLIC_URL');
    expect(fail({ ...prod, PUBLIC_URL: 'http://api.portal.test' }).variable).toBe('PUBLIC_URL');
    expect(fail({ ...prod, DEV_LOGIN: '1' }).variable).toBe('DEV_LOGIN');
    expect(fail({ ...prod, SESSION_SECRET: '' }).variable).toBe('SESSION_SECRET');
    expect(fail({ ...prod, SYNC_SECRET: '' }).variable).toBe('SYNC_SECRET');
    expect(fail({ ...prod, DATABASE_URL: 'sqlite:data/x.sqlite' }).variable).toBe('DATABASE_URL');
    expect(fail({ ...prod, OIDC_ISSUER: 'http://idp.test', OIDC_CLIENT_ID: 'c', OIDC_REDIRECT_URI: 'https://portal.test/auth/oidc/callback' }).variable).toBe(
      'OIDC_ISSUER',
    );
  });

  it('refuses an OIDC client with two authentication methods, an unknown subject type, or an http callback in production', () => {
    const oidc = { OIDC_ISSUER: 'https://broker.test', OIDC_CLIENT_ID: 'c', OIDC_REDIRECT_URI: 'https://portal.test/auth/oidc/callback' };
    const key = '-----BEGIN PRIVATE KEY-----\nMIG...\n-----END PRIVATE KEY-----';
    expect(loadConfig({ ...oidc, OIDC_CLIENT_PRIVATE_KEY: key }).OIDC_SUBJECT_TYPE).toBe('bsn');
    expect(fail({ ...oidc, OIDC_CLIENT_PRIVATE_KEY: key, OIDC_CLIENT_SECRET: 's' }).variable).toBe('OIDC_CLIENT_PRIVATE_KEY');
    expect(fail({ ...oidc, OIDC_SUBJECT_TYPE: 'email' }).variable).toBe('OIDC_SUBJECT_TYPE');
    const prod = { ...PRODUCTION_ENV, OWN_ACCOUNTS: '0' };
    expect(fail({ ...prod, ...oidc, OIDC_REDIRECT_URI: 'http://portal.test/auth/oidc/callback' }).variable).toBe('OIDC_REDIRECT_URI');
  });

  it('does not echo secrets in its error lines', () => {
    expect(fail({ SESSION_SECRET: 'short-secret' }).message).not.toContain('short-secret');
    expect(fail({ SMTP_URL: 'smtp://user:geheim@relay/x' }).message).not.toContain('geheim');
  });

  it('refuses to start in production without a real mail port while own accounts are on', () => {
    const { SMTP_URL: _url, SMTP_FROM: _from, ...prod } = PRODUCTION_ENV;
    const refused = fail(prod);
    expect(refused.variable).toBe('SMTP_URL');
    expect(refused.message).toMatch(/^configuration error: SMTP_URL is required in production while own accounts are on/);
    expect(fail({ ...prod, SMTP_URL: 'smtp://relay.portal.test:587' }).variable).toBe('SMTP_FROM');
    expect(fail({ ...prod, SMTP_URL: 'http://relay.portal.test' }).variable).toBe('SMTP_URL');
    expect(loadConfig({ ...prod, SMTP_URL: 'smtps://u:p@relay.portal.test:465', SMTP_FROM: 'Portaal <noreply@portal.test>' }).SMTP_URL).toBe(
      'smtps://u:p@relay.portal.test:465',
    );
    // DigiD only: no own accounts, so no mail relay is needed.
    expect(loadConfig({ ...prod, OWN_ACCOUNTS: '0' }).OWN_ACCOUNTS).toBe(false);
    expect(loadConfig({}).OWN_ACCOUNTS).toBe(true);
  });

  it('keeps personal data 730 days after treatment ended and the access log five years, never shorter', () => {
    expect(loadConfig({}).retention).toMatchObject({ personalDataDays: 730, accessLogDays: 1826, closesAfterDays: 30, everyMs: 86_400_000 });
    expect(fail({ RETENTION_ACCESS_LOG_DAYS: '365' }).variable).toBe('RETENTION_ACCESS_LOG_DAYS');
  });
});
