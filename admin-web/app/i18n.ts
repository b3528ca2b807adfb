import { useRouteLoaderData } from '@remix-run/react';

/** Cameroon is bilingual; French is the default of the market. */
export const LOCALES = ['fr', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'fr';

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

export interface Messages {
  languageName: string;
  title: string;
  tagline: string;
  comingSoon: string;
  switchLanguage: string;
  health: string;
  notFoundTitle: string;
  notFoundBody: string;
  errorTitle: string;
  errorBody: string;
  backHome: string;
}

export const messages: Record<Locale, Messages> = {
  fr: {
    languageName: 'Français',
    title: 'Relais — Console',
    tagline:
      'Vente de tickets WiFi et assistance client par chat : WhatsApp, Telegram, SMS, USSD et Mobile Money.',
    comingSoon:
      'La console des revendeurs et des agents arrive dans une prochaine version.',
    switchLanguage: 'Langue',
    health: 'État du service',
    notFoundTitle: 'Page introuvable',
    notFoundBody: "La page demandée n'existe pas.",
    errorTitle: 'Une erreur est survenue',
    errorBody: 'Nous ne pouvons pas afficher cette page pour le moment. Veuillez réessayer.',
    backHome: "Retour à l'accueil",
  },
  en: {
    languageName: 'English',
    title: 'Relais — Console',
    tagline:
      'WiFi voucher sales and customer support in a chat: WhatsApp, Telegram, SMS, USSD and Mobile Money.',
    comingSoon: 'The reseller and agent console arrives in an upcoming release.',
    switchLanguage: 'Language',
    health: 'Service status',
    notFoundTitle: 'Page not found',
    notFoundBody: 'The page you asked for does not exist.',
    errorTitle: 'Something went wrong',
    errorBody: 'We cannot show this page right now. Please try again.',
    backHome: 'Back to home',
  },
};

/** The locale chosen by the root loader; French when the root data is unavailable (error pages). */
export function useLocale(): Locale {
  const data: unknown = useRouteLoaderData('root');
  const locale =
    typeof data === 'object' && data !== null && 'locale' in data ? data.locale : undefined;
  return isLocale(locale) ? locale : DEFAULT_LOCALE;
}

export function useMessages(): Messages {
  return messages[useLocale()];
}
