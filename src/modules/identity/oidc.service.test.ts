import { acrSatisfies, EIDAS_SUBSTANTIAL, safeReturnTo } from './oidc.service';

describe('safeReturnTo', () => {
  it('keeps a relative path with its query and fragment, and defaults to /', () => {
    expect(safeReturnTo('/dossier?tab=2#top')).toBe('/dossier?tab=2#top');
    expect(safeReturnTo(null)).toBe('/');
    expect(safeReturnTo('')).toBe('/');
  });

  it.each([
    '//evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    'https://evil.example/x',
    'javascript:alert(1)',
    'dossier',
    '/a\r\nb',
    '/\tevil',
    `/${'a'.repeat(2048)}`,
  ])('refuses %j as a way off the site', (value) => {
    expect(safeReturnTo(value)).toBeNull();
  });
});

describe('acrSatisfies', () => {
  it('accepts eIDAS substantial or high when substantial is required, and refuses low or none', () => {
    expect(acrSatisfies('http://eidas.europa.eu/LoA/substantial', EIDAS_SUBSTANTIAL)).toBe(true);
    expect(acrSatisfies('http://eidas.europa.eu/LoA/high', EIDAS_SUBSTANTIAL)).toBe(true);
    expect(acrSatisfies('http://eidas.europa.eu/LoA/low', EIDAS_SUBSTANTIAL)).toBe(false);
    expect(acrSatisfies(undefined, EIDAS_SUBSTANTIAL)).toBe(false);
    expect(acrSatisfies('urn:something:else', EIDAS_SUBSTANTIAL)).toBe(false);
  });

  it('matches a non-eIDAS requirement exactly, and accepts anything when none is configured', () => {
    expect(acrSatisfies('urn:broker:midden', 'urn:broker:midden')).toBe(true);
    expect(acrSatisfies('urn:broker:basis', 'urn:broker:midden')).toBe(false);
    expect(acrSatisfies(undefined, null)).toBe(true);
  });
});
