import type { BilingualText } from '../../shared/bilingual-text.js';
import { formatXaf } from '../../shared/money.js';

export type VoucherLocale = 'fr' | 'en';

const UNITS: { minutes: number; fr: [string, string]; en: [string, string] }[] = [
  { minutes: 7 * 24 * 60, fr: ['semaine', 'semaines'], en: ['week', 'weeks'] },
  { minutes: 24 * 60, fr: ['jour', 'jours'], en: ['day', 'days'] },
  { minutes: 60, fr: ['heure', 'heures'], en: ['hour', 'hours'] },
  { minutes: 1, fr: ['minute', 'minutes'], en: ['minute', 'minutes'] },
];

/** "1 jour", "3 heures 30 minutes" / "1 day", "3 hours 30 minutes": how long a voucher lasts. */
export function formatValidity(validityMinutes: number, locale: VoucherLocale): string {
  const parts: string[] = [];
  let rest = validityMinutes;
  for (const unit of UNITS) {
    const count = Math.floor(rest / unit.minutes);
    if (count === 0) continue;
    // Weeks only when exact: "10 jours" reads better than "1 semaine 3 jours".
    if (unit.minutes === 7 * 24 * 60 && rest % unit.minutes !== 0) continue;
    parts.push(`${count} ${unit[locale][count === 1 ? 0 : 1]}`);
    rest -= count * unit.minutes;
  }
  return parts.join(' ') || `0 ${UNITS[3]![locale][1]}`;
}

export function lowStockText(packageName: BilingualText, available: number, threshold: number): BilingualText {
  return {
    fr: `Stock faible : il reste ${available} code${available > 1 ? 's' : ''} pour le forfait « ${packageName.fr} » (seuil : ${threshold}). Importez ou générez des codes.`,
    en: `Low stock: ${available} voucher${available === 1 ? '' : 's'} left for the "${packageName.en}" package (threshold: ${threshold}). Import or generate vouchers.`,
  };
}

export function outOfStockResellerText(packageName: BilingualText, ticketNumber: number, refunded: boolean): BilingualText {
  return {
    fr: `Rupture de stock : le ticket n° ${ticketNumber} a été payé mais il ne reste aucun code pour le forfait « ${packageName.fr} ».${refunded ? ' Le client sera remboursé.' : ''} Importez ou générez des codes.`,
    en: `Out of stock: ticket #${ticketNumber} was paid but no voucher is left for the "${packageName.en}" package.${refunded ? ' The customer will be refunded.' : ''} Import or generate vouchers.`,
  };
}

export function outOfStockCustomerText(packageName: BilingualText, amountXaf: number | null): BilingualText {
  if (amountXaf === null) {
    return {
      fr: `Désolé, le forfait « ${packageName.fr} » est épuisé. Un agent revient vers vous très vite.`,
      en: `Sorry, the "${packageName.en}" package is sold out. An agent will get back to you shortly.`,
    };
  }
  return {
    fr: `Désolé, le forfait « ${packageName.fr} » est épuisé. Votre paiement de ${formatXaf(amountXaf, 'fr')} vous sera remboursé sur votre compte Mobile Money.`,
    en: `Sorry, the "${packageName.en}" package is sold out. Your payment of ${formatXaf(amountXaf, 'en')} will be refunded to your Mobile Money account.`,
  };
}
