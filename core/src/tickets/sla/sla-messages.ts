import { DateTime } from 'luxon';
import type { BilingualText } from '../../shared/bilingual-text.js';

export type SlaTarget = 'first_response' | 'resolution';
export type SlaAlert = 'sla_warning' | 'sla_breached';

const TARGET_NAMES: Record<SlaTarget, BilingualText> = {
  first_response: { fr: 'première réponse', en: 'first response' },
  resolution: { fr: 'résolution', en: 'resolution' },
};

/** "12 mai 2026 à 14:30" / "12 May 2026 at 14:30", on the tenant's clock. */
function dueText(dueAt: Date, timezone: string): BilingualText {
  const local = DateTime.fromJSDate(dueAt, { zone: timezone });
  return { fr: local.setLocale('fr').toFormat("d LLLL yyyy 'à' HH:mm"), en: local.setLocale('en').toFormat("d LLLL yyyy 'at' HH:mm") };
}

/** What the assignee (or the admins) read when a ticket's SLA is at risk or missed. */
export function slaAlertText(alert: SlaAlert, options: { target: SlaTarget; ticketNumber: number; subject: string; dueAt: Date; timezone: string }): { title: BilingualText; body: BilingualText } {
  const { ticketNumber: n, subject } = options;
  const target = TARGET_NAMES[options.target];
  const due = dueText(options.dueAt, options.timezone);
  if (alert === 'sla_warning') {
    return {
      title: { fr: `SLA bientôt dépassé : ticket #${n}`, en: `SLA at risk: ticket #${n}` },
      body: {
        fr: `Délai de ${target.fr} du ticket #${n} « ${subject} » : échéance le ${due.fr}.`,
        en: `The ${target.en} of ticket #${n} "${subject}" is due by ${due.en}.`,
      },
    };
  }
  return {
    title: { fr: `SLA dépassé : ticket #${n}`, en: `SLA breached: ticket #${n}` },
    body: {
      fr: `Le délai de ${target.fr} du ticket #${n} « ${subject} » est dépassé (échéance le ${due.fr}).`,
      en: `The ${target.en} deadline of ticket #${n} "${subject}" has passed (due ${due.en}).`,
    },
  };
}
