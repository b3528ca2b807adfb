import type { MetaFunction } from '@remix-run/node';
import { Link } from '@remix-run/react';
import { LOCALES, messages, useLocale, type Locale } from '../i18n';

export const meta: MetaFunction = ({ matches }) => {
  const rootData: unknown = matches.find((match) => match.id === 'root')?.data;
  const locale: Locale =
    typeof rootData === 'object' && rootData !== null && 'locale' in rootData && rootData.locale === 'en'
      ? 'en'
      : 'fr';
  return [
    { title: messages[locale].title },
    { name: 'description', content: messages[locale].tagline },
  ];
};

export default function Index() {
  const locale = useLocale();
  const m = messages[locale];
  return (
    <main className="page">
      <header className="top">
        <h1 className="brand">Relais</h1>
        <nav aria-label={m.switchLanguage} className="lang">
          {LOCALES.map((option, index) => (
            <span key={option}>
              {index > 0 ? <span aria-hidden="true"> | </span> : null}
              <Link
                to={`?lang=${option}`}
                lang={option}
                hrefLang={option}
                title={messages[option].languageName}
                aria-current={option === locale ? 'true' : undefined}
                preventScrollReset
              >
                {option.toUpperCase()}
              </Link>
            </span>
          ))}
        </nav>
      </header>
      <p className="tagline">{m.tagline}</p>
      <p className="notice">{m.comingSoon}</p>
      <footer>
        <a href="/health">{m.health}</a>
      </footer>
    </main>
  );
}
