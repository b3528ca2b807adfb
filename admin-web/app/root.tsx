import { data, type LinksFunction, type LoaderFunctionArgs } from '@remix-run/node';
import {
  Links,
  Meta,
  Outlet,
  Scripts,
  ScrollRestoration,
  isRouteErrorResponse,
  useRouteError,
} from '@remix-run/react';
import type { ReactNode } from 'react';
import { messages, useLocale } from './i18n';
import { localeCookieFor, pickLocale } from './i18n.server';
import stylesheet from './styles.css?url';

export const links: LinksFunction = () => [
  { rel: 'icon', href: '/favicon.svg', type: 'image/svg+xml' },
  { rel: 'stylesheet', href: stylesheet },
];

export async function loader({ request }: LoaderFunctionArgs) {
  const locale = pickLocale(request);
  const cookie = localeCookieFor(request);
  return data({ locale }, cookie ? { headers: { 'Set-Cookie': cookie } } : undefined);
}

export function Layout({ children }: { children: ReactNode }) {
  const locale = useLocale();
  return (
    <html lang={locale}>
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body>
        {children}
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  );
}

export default function App() {
  return <Outlet />;
}

/**
 * Shown for any uncaught error. The locale may be unknown here (the root loader may be the one
 * that failed), so the message is given in both languages. Never render error details: they may
 * carry internals.
 */
export function ErrorBoundary() {
  const error = useRouteError();
  const notFound = isRouteErrorResponse(error) && error.status === 404;
  return (
    <main className="page">
      <h1 className="brand">Relais</h1>
      {(['fr', 'en'] as const).map((locale) => {
        const m = messages[locale];
        return (
          <section key={locale} lang={locale} className="error">
            <h2>{notFound ? m.notFoundTitle : m.errorTitle}</h2>
            <p>{notFound ? m.notFoundBody : m.errorBody}</p>
          </section>
        );
      })}
      <p>
        <a href="/">
          {messages.fr.backHome} / {messages.en.backHome}
        </a>
      </p>
    </main>
  );
}
