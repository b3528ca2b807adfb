import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatRouterOsDuration, parseByteCount, parseByteLimit, parseDurationLimit, parseRouterOsDuration } from '../src/routers/routeros-values.js';

describe('RouterOS durations', () => {
  it.each([
    ['1d', 86_400],
    ['3h', 10_800],
    ['1w2d3h4m5s', 604_800 + 2 * 86_400 + 3 * 3_600 + 4 * 60 + 5],
    ['30m', 1_800],
    ['0s', 0],
    ['500ms', 0],
    ['1m500ms', 60],
    ['90', 90],
    ['02:03:04', 7_384],
    ['1d02:03:04', 93_784],
    ['2w1d00:00:01', 1_296_001],
    ['00:00:01.5', 1],
    [' 1H ', 3_600],
  ])('%s is %i seconds', (text, seconds) => {
    expect(parseRouterOsDuration(text)).toBe(seconds);
  });

  it.each(['', 'abc', '1x', '1h1h', '-1s', '1.5h', '00:61:00', 'd', '1d 2h'])('%j is not a duration', (text) => {
    expect(parseRouterOsDuration(text)).toBeUndefined();
  });

  it('format and parse are inverse for any whole number of seconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 365 * 86_400 }), (seconds) => {
        const text = formatRouterOsDuration(seconds);
        expect(text).toMatch(/^(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?$/);
        expect(parseRouterOsDuration(text)).toBe(seconds);
      }),
    );
  });

  it('parses any well-formed unit combination to the sum of its parts', () => {
    const part = fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: undefined });
    fc.assert(
      fc.property(part, part, part, part, part, (w, d, h, m, s) => {
        const text = `${w === undefined ? '' : `${w}w`}${d === undefined ? '' : `${d}d`}${h === undefined ? '' : `${h}h`}${m === undefined ? '' : `${m}m`}${s === undefined ? '' : `${s}s`}`;
        fc.pre(text !== '');
        expect(parseRouterOsDuration(text)).toBe((w ?? 0) * 604_800 + (d ?? 0) * 86_400 + (h ?? 0) * 3_600 + (m ?? 0) * 60 + (s ?? 0));
      }),
    );
  });

  it('never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string(), (text) => void parseRouterOsDuration(text)));
  });

  it('limit cells: empty, 0 and 0s mean no limit; garbage is an error', () => {
    expect(parseDurationLimit('')).toBeUndefined();
    expect(parseDurationLimit('0')).toBeUndefined();
    expect(parseDurationLimit('0s')).toBeUndefined();
    expect(parseDurationLimit('1d')).toBe(86_400);
    expect(parseDurationLimit('soon')).toBeNull();
  });
});

describe('byte counts', () => {
  it.each([
    ['1073741824', 1_073_741_824],
    ['0', 0],
    ['1G', 1_073_741_824],
    ['1GB', 1_073_741_824],
    ['2 GiB', 2_147_483_648],
    ['500M', 524_288_000],
    ['1.5G', 1_610_612_736],
    ['1,5G', 1_610_612_736],
    ['10k', 10_240],
  ])('%s is %i bytes', (text, bytes) => {
    expect(parseByteCount(text)).toBe(bytes);
  });

  it.each(['', 'lots', '-5', '1X', '1e9', '99999999999999999999'])('%j is not a byte count', (text) => {
    expect(parseByteCount(text)).toBeUndefined();
  });

  it('raw digits parse to themselves', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (bytes) => {
      expect(parseByteCount(String(bytes))).toBe(bytes);
    }));
  });

  it('a unit multiplies by its binary size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom(['K', 1024], ['M', 1024 ** 2], ['G', 1024 ** 3]), (count, [unit, size]) => {
        expect(parseByteCount(`${count}${unit as string}`)).toBe(count * (size as number));
      }),
    );
  });

  it('never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string(), (text) => void parseByteCount(text)));
  });

  it('limit cells: empty and 0 mean no limit; garbage is an error', () => {
    expect(parseByteLimit('')).toBeUndefined();
    expect(parseByteLimit('0')).toBeUndefined();
    expect(parseByteLimit('1073741824')).toBe(1_073_741_824);
    expect(parseByteLimit('big')).toBeNull();
  });
});
