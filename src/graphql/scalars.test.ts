import { DateScalar } from './scalars';

describe('the Date scalar', () => {
  it.each(['2024-02-29', '2000-02-29', '2026-12-31', '2026-04-30', '0001-01-01'])('serves and accepts the calendar date %s', (value) => {
    expect(DateScalar.serialize(value)).toBe(value);
    expect(DateScalar.parseValue(value)).toBe(value);
  });

  it.each(['2023-02-29', '1900-02-29', '2026-04-31', '2026-13-01', '2026-00-10', '2026-01-00', '2026-1-01', '2026-01-01T00:00:00Z', ''])(
    'refuses %p as BAD_USER_INPUT',
    (value) => {
      expect(() => DateScalar.parseValue(value)).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' } }) as Error);
    },
  );

  it('serves a Date object as its UTC calendar day', () => {
    expect(DateScalar.serialize(new Date('2026-03-05T23:30:00Z'))).toBe('2026-03-05');
  });
});
