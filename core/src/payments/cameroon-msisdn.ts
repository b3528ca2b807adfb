import { parsePhoneNumberFromString } from 'libphonenumber-js/mobile';
import { AppError } from '../shared/app-error.js';
import type { MobileOperator } from '../shared/ports/payment-gateway.js';

export interface CameroonMobile {
  /** +2376XXXXXXXX */
  e164: string;
  /** 2376XXXXXXXX: what CamPay expects in `from` / `to` (no `+`). */
  campay: string;
  operator: MobileOperator;
}

export type CameroonNetwork = MobileOperator | 'NEXTTEL' | 'CAMTEL';

interface PrefixRange {
  /** Leading digits of the 9-digit national number. */
  prefix: string;
  network: CameroonNetwork;
  /** false where the sources disagree or only one unofficial source lists the range. */
  confirmed: boolean;
}

/**
 * Which network a national number belongs to, by its leading digits (longest prefix wins).
 *
 * Sources:
 *  - ITU Operational Bulletin communication of 6.X.2014 from the regulator (ART) on the move to
 *    nine digits: 66 Nexttel, 67 and 650-654 MTN, 69 Orange.
 *  - Google libphonenumber carrier data (resources/carrier/en/237.txt): the above, plus
 *    655-659 Orange, 62 Camtel, 680-683 MTN, 686-687 Orange, and 684, 685, 688, 689 Nexttel.
 * libphonenumber also types 242-243 (Camtel, formerly fixed wireless) and 640-642 (no carrier
 * listed) as mobile; 640-642 are absent here on purpose, so they count as unsupported.
 * The 68x split is unconfirmed: only libphonenumber lists it, and an internal note we were given
 * said 680-684 MTN and 685-689 Orange instead. We follow libphonenumber.
 *
 * Keep this table up to date: the regulator hands out new blocks as operators fill theirs. A
 * number in a block missing here is refused as PAYMENT_OPERATOR_UNSUPPORTED, so the symptom of an
 * outdated table is customers of a new MTN/Orange block who cannot pay. Cameroon has no mobile
 * number portability as of this writing; if it comes, prefixes stop identifying the network and
 * the operator must come from CamPay's collect answer instead.
 */
export const CAMEROON_MOBILE_PREFIXES: readonly PrefixRange[] = [
  { prefix: '242', network: 'CAMTEL', confirmed: false },
  { prefix: '243', network: 'CAMTEL', confirmed: false },
  { prefix: '62', network: 'CAMTEL', confirmed: true },
  ...['650', '651', '652', '653', '654'].map((prefix) => ({ prefix, network: 'MTN' as const, confirmed: true })),
  ...['655', '656', '657', '658', '659'].map((prefix) => ({ prefix, network: 'ORANGE' as const, confirmed: true })),
  { prefix: '66', network: 'NEXTTEL', confirmed: true },
  { prefix: '67', network: 'MTN', confirmed: true },
  ...['680', '681', '682', '683'].map((prefix) => ({ prefix, network: 'MTN' as const, confirmed: false })),
  ...['684', '685', '688', '689'].map((prefix) => ({ prefix, network: 'NEXTTEL' as const, confirmed: false })),
  ...['686', '687'].map((prefix) => ({ prefix, network: 'ORANGE' as const, confirmed: false })),
  { prefix: '69', network: 'ORANGE', confirmed: true },
];

/** The separators people type inside a number: spaces, dashes, dots, brackets. */
const SEPARATORS = /[\s().-]/g;
const MAX_INPUT_LENGTH = 32;

const invalid = () =>
  new AppError('PAYMENT_PHONE_INVALID', 'Not a Cameroonian mobile number: give an MTN or Orange number such as +237 6 70 00 00 00 or 670000000');

/** The network of a 9-digit national number, or undefined when no range in the table matches. */
export function cameroonNetworkOf(nationalNumber: string): CameroonNetwork | undefined {
  let best: PrefixRange | undefined;
  for (const range of CAMEROON_MOBILE_PREFIXES) {
    if (nationalNumber.startsWith(range.prefix) && (!best || range.prefix.length > best.prefix.length)) best = range;
  }
  return best?.network;
}

/**
 * Reads a Cameroonian mobile number in any usual form (+237 6 70 00 00 00, 237670000000,
 * 670000000, 00237670000000, with spaces, dashes or dots) and tells its Mobile Money operator.
 * Throws PAYMENT_PHONE_INVALID for anything else and PAYMENT_OPERATOR_UNSUPPORTED for a valid
 * mobile number on a network the gateway cannot collect from (Nexttel, Camtel, unknown blocks).
 */
export function parseCameroonMobile(input: string): CameroonMobile {
  // libphonenumber happily extracts a number from free text ("call 670000000", "670000000x1"):
  // we want the whole input to be a phone number, nothing else.
  if (typeof input !== 'string' || input.length > MAX_INPUT_LENGTH) throw invalid();
  const compact = input.replace(SEPARATORS, '');
  if (!/^\+?\d+$/.test(compact)) throw invalid();
  const parsed = parsePhoneNumberFromString(compact, 'CM');
  if (!parsed || parsed.country !== 'CM' || !parsed.isValid() || parsed.getType() !== 'MOBILE') throw invalid();

  const national = String(parsed.nationalNumber);
  const network = cameroonNetworkOf(national);
  if (network !== 'MTN' && network !== 'ORANGE') {
    throw new AppError('PAYMENT_OPERATOR_UNSUPPORTED', 'Only MTN Mobile Money and Orange Money numbers can pay: give an MTN or Orange number', {
      details: { network: network ?? 'UNKNOWN' },
    });
  }
  return { e164: `+237${national}`, campay: `237${national}`, operator: network };
}
