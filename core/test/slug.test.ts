import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SLUG_PATTERN, slugify } from '@relais/core';

describe('slugify', () => {
  it.each([
    ['Wifi Zone Bépanda', 'wifi-zone-bepanda'],
    ['  Café & Hôtel — Douala!! ', 'cafe-hotel-douala'],
    ['ÉCOLE', 'ecole'],
  ])('%s -> %s', (name, slug) => expect(slugify(name)).toBe(slug));

  it('yields a valid slug or an empty string for any name', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (name) => {
      const slug = slugify(name);
      return slug === '' || SLUG_PATTERN.test(slug);
    }));
  });
});
