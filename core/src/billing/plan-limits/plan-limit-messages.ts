import type { BilingualText } from '../../shared/bilingual-text.js';
import { dayLabel, monthLabel } from '../subscriptions/billing-calendar.js';
import type { PlanQuota } from './plan-quota.js';

export type { BilingualText } from '../../shared/bilingual-text.js';

/** 1 000 (fr) / 1,000 (en), grouped like amounts of money (see shared/money.ts). */
function count(value: number, locale: 'fr' | 'en'): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, locale === 'fr' ? ' ' : ',');
}

/** "1er juin 2026" / "1 June 2026". */
function day(isoDate: string, locale: 'fr' | 'en'): string {
  const label = dayLabel(isoDate, locale);
  return locale === 'fr' ? label.replace(/^1 /, '1er ') : label;
}

function upgradeHint(quota: PlanQuota, locale: 'fr' | 'en'): string | undefined {
  if (!quota.upgrade) return undefined;
  const { name, limit } = quota.upgrade;
  if (quota.metric === 'tickets') {
    const amount = limit === null ? (locale === 'fr' ? 'tickets illimités' : 'unlimited tickets') : `${count(limit, locale)} ${locale === 'fr' ? 'tickets par mois' : 'tickets per month'}`;
    return locale === 'fr' ? `passez au forfait ${name.fr} (${amount})` : `upgrade to the ${name.en} plan (${amount})`;
  }
  const amount = limit === null ? (locale === 'fr' ? 'agents illimités' : 'unlimited agents') : `${count(limit, locale)} agents`;
  return locale === 'fr' ? `passez au forfait ${name.fr} (${amount})` : `upgrade to the ${name.en} plan (${amount})`;
}

/** Why an action is refused at 100 %, and what the reseller can do about it. */
export function limitReachedText(quota: PlanQuota): BilingualText {
  const limit = quota.limit ?? 0;
  const fr = upgradeHint(quota, 'fr');
  const en = upgradeHint(quota, 'en');
  if (quota.metric === 'tickets') {
    return {
      fr:
        `Votre forfait ${quota.plan.name.fr} comprend ${count(limit, 'fr')} tickets par mois et ils sont tous utilisés pour ${monthLabel(quota.month, 'fr')}. ` +
        `Les nouveaux tickets sont refusés jusqu'au ${day(quota.resetsOn, 'fr')}` +
        (fr ? ` ; ${fr} pour en ouvrir dès maintenant.` : '.'),
      en:
        `Your ${quota.plan.name.en} plan includes ${count(limit, 'en')} tickets per month and all of them are used for ${monthLabel(quota.month, 'en')}. ` +
        `New tickets are refused until ${day(quota.resetsOn, 'en')}` +
        (en ? `; ${en} to open more now.` : '.'),
    };
  }
  return {
    fr:
      `Votre forfait ${quota.plan.name.fr} permet ${count(limit, 'fr')} agents actifs et vous les avez tous. ` +
      `Désactivez un agent dont vous n'avez plus besoin${fr ? `, ou ${fr}` : ''} pour en ajouter un.`,
    en:
      `Your ${quota.plan.name.en} plan allows ${count(limit, 'en')} active agents and you have all of them. ` +
      `Disable an agent you no longer need${en ? `, or ${en},` : ''} to add one.`,
  };
}

/** The 80 % warning: how much is used and what happens at 100 %. */
export function limitWarningText(quota: PlanQuota, percent: number): BilingualText {
  const limit = quota.limit ?? 0;
  const fr = upgradeHint(quota, 'fr');
  const en = upgradeHint(quota, 'en');
  if (quota.metric === 'tickets') {
    return {
      fr:
        `Vous avez utilisé ${count(quota.used, 'fr')} des ${count(limit, 'fr')} tickets de votre forfait ${quota.plan.name.fr} pour ${monthLabel(quota.month, 'fr')} (${percent} %). ` +
        `Au-delà, les nouveaux tickets seront refusés jusqu'au ${day(quota.resetsOn, 'fr')}` +
        (fr ? ` : ${fr} pour l'éviter.` : '.'),
      en:
        `You have used ${count(quota.used, 'en')} of the ${count(limit, 'en')} tickets of your ${quota.plan.name.en} plan for ${monthLabel(quota.month, 'en')} (${percent}%). ` +
        `Beyond that, new tickets will be refused until ${day(quota.resetsOn, 'en')}` +
        (en ? `: ${en} to avoid it.` : '.'),
    };
  }
  return {
    fr:
      `Vous avez ${count(quota.used, 'fr')} des ${count(limit, 'fr')} agents actifs permis par votre forfait ${quota.plan.name.fr} (${percent} %).` +
      (fr ? ` Pour en ajouter davantage, ${fr}.` : ''),
    en:
      `You have ${count(quota.used, 'en')} of the ${count(limit, 'en')} active agents your ${quota.plan.name.en} plan allows (${percent}%).` +
      (en ? ` To add more, ${en}.` : ''),
  };
}

/** Short titles for the notification list. */
export function limitTitle(quota: PlanQuota, threshold: 80 | 100): BilingualText {
  const what = quota.metric === 'tickets' ? { fr: 'tickets du mois', en: 'monthly tickets' } : { fr: 'agents', en: 'agents' };
  return threshold === 100
    ? { fr: `Limite de ${what.fr} atteinte`, en: `${capitalise(what.en)} limit reached` }
    : { fr: `${threshold} % des ${what.fr} utilisés`, en: `${threshold}% of ${what.en} used` };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
