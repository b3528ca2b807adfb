import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../src/shared/app-error.js';
import { CAMEROON_MOBILE_PREFIXES, cameroonNetworkOf, parseCameroonMobile } from '../src/payments/cameroon-msisdn.js';

function errorCodeOf(input: string): string | undefined {
  try {
    parseCameroonMobile(input);
    return undefined;
  } catch (error) {
    if (!isAppError(error)) throw error;
    return error.code;
  }
}

describe('parseCameroonMobile: accepted forms', () => {
  it.each([
    ['+237 6 70 00 00 00', '+237670000000', 'MTN'],
    ['237670000000', '+237670000000', 'MTN'],
    ['670000000', '+237670000000', 'MTN'],
    ['00237670000000', '+237670000000', 'MTN'],
    ['+237-670-00-00-00', '+237670000000', 'MTN'],
    ['6.70.00.00.00', '+237670000000', 'MTN'],
    [' (+237) 699 12 34 56 ', '+237699123456', 'ORANGE'],
    ['+237650123456', '+237650123456', 'MTN'],
    ['+237654999999', '+237654999999', 'MTN'],
    ['+237655000000', '+237655000000', 'ORANGE'],
    ['+237659000000', '+237659000000', 'ORANGE'],
    ['+237680000000', '+237680000000', 'MTN'],
    ['+237683000000', '+237683000000', 'MTN'],
    ['+237686000000', '+237686000000', 'ORANGE'],
    ['+237687000000', '+237687000000', 'ORANGE'],
  ])('%s -> %s (%s)', (input, e164, operator) => {
    expect(parseCameroonMobile(input)).toEqual({ e164, campay: e164.slice(1), operator });
  });
});

describe('parseCameroonMobile: refusals', () => {
  it.each([
    ['', 'PAYMENT_PHONE_INVALID'],
    ['   ', 'PAYMENT_PHONE_INVALID'],
    ['6700000', 'PAYMENT_PHONE_INVALID'], // too short
    ['6700000001', 'PAYMENT_PHONE_INVALID'], // too long
    ['2376700000000', 'PAYMENT_PHONE_INVALID'],
    ['0670000000', 'PAYMENT_PHONE_INVALID'], // Cameroon has no trunk 0
    ['+33612345678', 'PAYMENT_PHONE_INVALID'], // a French mobile
    ['+2250701020304', 'PAYMENT_PHONE_INVALID'], // an Ivorian mobile
    ['+237222123456', 'PAYMENT_PHONE_INVALID'], // a Cameroonian landline
    ['call 670000000 now', 'PAYMENT_PHONE_INVALID'],
    ['670000000x1', 'PAYMENT_PHONE_INVALID'],
    ['67O000000', 'PAYMENT_PHONE_INVALID'], // letter O
    ['+237 670 000 000 ext 5', 'PAYMENT_PHONE_INVALID'],
    ['++237670000000', 'PAYMENT_PHONE_INVALID'],
    ['6'.repeat(40), 'PAYMENT_PHONE_INVALID'],
    ['+237660000000', 'PAYMENT_OPERATOR_UNSUPPORTED'], // Nexttel
    ['665123456', 'PAYMENT_OPERATOR_UNSUPPORTED'], // Nexttel
    ['+237620000000', 'PAYMENT_OPERATOR_UNSUPPORTED'], // Camtel mobile
    ['+237242000000', 'PAYMENT_OPERATOR_UNSUPPORTED'], // Camtel
    ['+237684000000', 'PAYMENT_OPERATOR_UNSUPPORTED'], // Nexttel per libphonenumber (unconfirmed)
    ['+237640000000', 'PAYMENT_OPERATOR_UNSUPPORTED'], // valid block, no known operator
  ])('%j -> %s', (input, code) => {
    expect(errorCodeOf(input)).toBe(code);
  });

  it('does not echo the number in the error message', () => {
    try {
      parseCameroonMobile('+237660123456');
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain('660123456');
      expect((error as Error).message).toMatch(/MTN or Orange/);
    }
  });
});

describe('the prefix table', () => {
  it('has no duplicate prefix', () => {
    const prefixes = CAMEROON_MOBILE_PREFIXES.map((range) => range.prefix);
    expect(new Set(prefixes).size).toBe(prefixes.length);
  });

  it('lets the longest prefix win', () => {
    expect(cameroonNetworkOf('670000000')).toBe('MTN');
    expect(cameroonNetworkOf('655000000')).toBe('ORANGE');
    expect(cameroonNetworkOf('681000000')).toBe('MTN');
    expect(cameroonNetworkOf('688000000')).toBe('NEXTTEL');
    expect(cameroonNetworkOf('600000000')).toBeUndefined();
  });
});

/** Any MTN or Orange national number from the table. */
const supportedNational = fc
  .constantFrom(...CAMEROON_MOBILE_PREFIXES.filter((range) => range.network === 'MTN' || range.network === 'ORANGE'))
  .chain((range) =>
    fc.stringMatching(new RegExp(`^\\d{${9 - range.prefix.length}}$`)).map((rest) => ({ national: `${range.prefix}${rest}`, network: range.network })),
  );

/** The national number written the ways people write it, with random separators between digits. */
const writtenForms = (national: string) =>
  fc
    .tuple(
      fc.constantFrom('', '+237', '237', '00237', '+237 ', '(+237) ', '00 237 '),
      fc.array(fc.constantFrom('', '', '', ' ', '-', '.'), { minLength: 8, maxLength: 8 }),
    )
    .map(([countryPart, separators]) => countryPart + [...national].map((digit, i) => digit + (separators[i] ?? '')).join(''));

describe('parseCameroonMobile: properties', () => {
  it('reads every written form of one number to the same e164, campay form and operator', () => {
    fc.assert(
      fc.property(
        supportedNational.chain(({ national, network }) => fc.tuple(fc.constant({ national, network }), writtenForms(national))),
        ([{ national, network }, written]) => {
          expect(parseCameroonMobile(written)).toEqual({ e164: `+237${national}`, campay: `237${national}`, operator: network });
        },
      ),
    );
  });

  it('parsing its own e164 or campay output gives the same result (idempotent)', () => {
    fc.assert(
      fc.property(supportedNational, ({ national }) => {
        const first = parseCameroonMobile(national);
        expect(parseCameroonMobile(first.e164)).toEqual(first);
        expect(parseCameroonMobile(first.campay)).toEqual(first);
      }),
    );
  });

  it('never throws anything but PAYMENT_PHONE_INVALID or PAYMENT_OPERATOR_UNSUPPORTED', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^\+?[\d .-]{0,20}$/)), (input) => {
        const code = errorCodeOf(input);
        expect([undefined, 'PAYMENT_PHONE_INVALID', 'PAYMENT_OPERATOR_UNSUPPORTED']).toContain(code);
        if (code === undefined) expect(parseCameroonMobile(input).e164).toMatch(/^\+2376\d{8}$/);
      }),
    );
  });
});
