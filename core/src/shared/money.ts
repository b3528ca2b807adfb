/**
 * Money is whole XAF (FCFA) everywhere; this is how it is shown to people.
 *
 * - fr: "52 000 FCFA" — the fr-CM way, digits grouped by three.
 * - en: "52,000 FCFA" — anglophone Cameroon writes the amount the English way but still names the
 *   currency FCFA; "XAF 52,000" reads like a bank statement and nobody says it.
 *
 * The French group separator is a plain space (U+0020), on purpose:
 * - Intl.NumberFormat('fr') uses U+202F (narrow no-break space), which the PDF standard fonts
 *   (WinAnsi) cannot draw and which is not in the GSM-7 alphabet: one such character turns an SMS
 *   or USSD text into UCS-2 and cuts it from 160 to 70 characters.
 * - U+00A0 draws in PDFs but has the same GSM-7 problem.
 * Where an amount must not wrap (PDF table cells), the layout places it with line breaking off.
 */
export type MoneyLocale = 'fr' | 'en';

const GROUP_SEPARATOR: Record<MoneyLocale, string> = { fr: ' ', en: ',' };

export function formatXaf(amount: number, locale: MoneyLocale): string {
  if (!Number.isSafeInteger(amount)) {
    // A fraction of a franc means a computation went wrong upstream; rounding here would hide it.
    throw new RangeError(`formatXaf: ${amount} is not a whole number of XAF`);
  }
  const digits = String(Math.abs(amount)).replace(/\B(?=(\d{3})+(?!\d))/g, GROUP_SEPARATOR[locale]);
  return `${amount < 0 ? '-' : ''}${digits} FCFA`;
}
