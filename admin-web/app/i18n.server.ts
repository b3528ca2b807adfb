import { DEFAULT_LOCALE, isLocale, type Locale } from './i18n';

export const LOCALE_COOKIE_NAME = 'lang';
const ONE_YEAR_S = 365 * 24 * 60 * 60;

/**
 * The locale of a request: `?lang=` first (an explicit choice), then the `lang` cookie
 * (a remembered choice), then Accept-Language, then French.
 */
export function pickLocale(request: Request): Locale {
  return localeFromQuery(request) ?? localeFromCookie(request) ?? localeFromAcceptLanguage(request) ?? DEFAULT_LOCALE;
}

/** A Set-Cookie value remembering an explicit `?lang=` choice, or null when there is none. */
export function localeCookieFor(request: Request): string | null {
  const locale = localeFromQuery(request);
  if (!locale || localeFromCookie(request) === locale) return null;
  return `${LOCALE_COOKIE_NAME}=${locale}; Path=/; Max-Age=${ONE_YEAR_S}; SameSite=Lax`;
}

function localeFromQuery(request: Request): Locale | null {
  const value = new URL(request.url).searchParams.get('lang')?.trim().toLowerCase();
  return isLocale(value) ? value : null;
}

function localeFromCookie(request: Request): Locale | null {
  const header = request.headers.get('Cookie');
  if (!header) return null;
  for (const part of header.split(';')) {
    const [name, ...rest] = part.split('=');
    if (name?.trim() === LOCALE_COOKIE_NAME) {
      const value = rest.join('=').trim().toLowerCase();
      return isLocale(value) ? value : null;
    }
  }
  return null;
}

/** First supported language by descending q-value; "en-US" counts as "en". */
function localeFromAcceptLanguage(request: Request): Locale | null {
  const header = request.headers.get('Accept-Language');
  if (!header) return null;
  const ranked = header
    .split(',')
    .map((entry, index) => {
      const [tag = '', ...params] = entry.trim().split(';');
      const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const q = qParam ? Number(qParam.slice(2)) : 1;
      return { language: tag.trim().toLowerCase().split('-')[0], q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((entry) => entry.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { language } of ranked) {
    if (isLocale(language)) return language;
  }
  return null;
}
