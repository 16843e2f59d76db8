import { BrowserOrigins } from './origins';

const origins = (over: Partial<ConstructorParameters<typeof BrowserOrigins>[0]> = {}) =>
  new BrowserOrigins({
    publicUrl: 'https://api.portal.test',
    frontendUrl: 'https://portal.test',
    corsOrigins: ['https://app.portal.test'],
    secureCookies: true,
    accessTokenTtlSeconds: 900,
    sessionMaxSeconds: 43200,
    isProduction: true,
    port: 4000,
    ...over,
  });

describe('where a login lands (returnTo)', () => {
  it('takes a path on the frontend, with its query and fragment, and an absolute URL on a frontend origin', () => {
    expect(origins().landing('/dossier?tab=2#top')).toBe('https://portal.test/dossier?tab=2#top');
    expect(origins().landing('https://app.portal.test/afspraken')).toBe('https://app.portal.test/afspraken');
    expect(origins().landing('https://portal.test/')).toBe('https://portal.test/');
  });

  it.each([
    '//evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    'https://evil.example/x',
    'https://portal.test.evil.example/',
    'https://user:pw@portal.test/',
    'http://portal.test/',
    'javascript:alert(1)',
    'dossier',
    '/a\r\nb',
    '/\tevil',
    `/${'a'.repeat(2048)}`,
  ])('refuses %j (the login then lands on the start page)', (value) => {
    expect(origins().landing(value)).toBeNull();
  });

  it('lands on the frontend start page by default, and on the gateway (the reference page) without FRONTEND_URL', () => {
    expect(origins().home).toBe('https://portal.test/');
    const local = origins({ publicUrl: null, frontendUrl: null, corsOrigins: [], isProduction: false });
    local.listening('http://localhost:54321');
    expect(local.home).toBe('http://localhost:54321/');
    expect(local.landing('/berichten')).toBe('http://localhost:54321/berichten');
  });
});

describe('which origins are frontends', () => {
  it('allows the listed origins, FRONTEND_URL and the gateway itself, nothing else', () => {
    const o = origins();
    for (const ok of ['https://app.portal.test', 'https://portal.test', 'https://api.portal.test']) expect(o.isFrontend(ok)).toBe(true);
    for (const no of ['https://evil.example', 'null', 'https://portal.test:8443', undefined]) expect(o.isFrontend(no)).toBe(false);
  });

  it('lets a socket without Origin in (an app), one from a frontend, and others only in development without CORS_ORIGINS', () => {
    expect(origins().allowsSocket(undefined)).toBe(true);
    expect(origins().allowsSocket('https://portal.test')).toBe(true);
    expect(origins().allowsSocket('https://evil.example')).toBe(false);
    expect(origins({ corsOrigins: [], isProduction: false }).allowsSocket('http://anything.local')).toBe(true);
    expect(origins({ isProduction: false }).allowsSocket('http://anything.local')).toBe(false);
  });

  it('makes absolute links: downloads on the gateway, mail links on the frontend', () => {
    expect(origins().absolute('/files/x?sig=1')).toBe('https://api.portal.test/files/x?sig=1');
    expect(origins().page('/uitnodiging?token=t')).toBe('https://portal.test/uitnodiging?token=t');
  });
});
