import { acrSatisfies, EIDAS_SUBSTANTIAL } from './oidc.service';

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
