import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatXaf } from '../src/shared/money.js';

const NARROW_NO_BREAK_SPACE = '\u202f';

describe('formatXaf', () => {
  it.each([
    [0, 'fr', '0 FCFA'],
    [500, 'fr', '500 FCFA'],
    [5000, 'fr', '5 000 FCFA'],
    [52000, 'fr', '52 000 FCFA'],
    [1234567, 'fr', '1 234 567 FCFA'],
    [-52000, 'fr', '-52 000 FCFA'],
    [0, 'en', '0 FCFA'],
    [52000, 'en', '52,000 FCFA'],
    [1234567, 'en', '1,234,567 FCFA'],
    [-500, 'en', '-500 FCFA'],
  ] as const)('%d in %s -> %s', (amount, locale, expected) => {
    expect(formatXaf(amount, locale)).toBe(expected);
  });

  it('groups French amounts with a plain space, never the U+202F that Intl uses', () => {
    const formatted = formatXaf(52000, 'fr');
    expect([...formatted].map((c) => c.codePointAt(0))).toContain(0x20);
    expect(formatted).not.toContain(NARROW_NO_BREAK_SPACE);
    expect(formatted).not.toContain('\u00a0');
  });

  it.each([0.5, 52000.01, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1])('refuses %d', (amount) => {
    expect(() => formatXaf(amount, 'fr')).toThrow(RangeError);
  });

  it('preserves the digits and the sign, in groups of three, for any whole amount', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), fc.constantFrom('fr' as const, 'en' as const), (amount, locale) => {
        const formatted = formatXaf(amount, locale);
        expect(formatted.endsWith(' FCFA')).toBe(true);
        expect(formatted).not.toContain(NARROW_NO_BREAK_SPACE);
        const number = formatted.slice(0, -' FCFA'.length);
        const separator = locale === 'fr' ? ' ' : ',';
        expect(number.replaceAll(separator, '')).toBe(String(amount));
        const groups = number.replace(/^-/, '').split(separator);
        expect(groups[0]!.length).toBeGreaterThanOrEqual(1);
        expect(groups[0]!.length).toBeLessThanOrEqual(3);
        expect(groups.slice(1).every((group) => /^\d{3}$/.test(group))).toBe(true);
      }),
    );
  });
});
