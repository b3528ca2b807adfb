import nodemailer from 'nodemailer';
import { AppError } from '../app-error.js';
import type { Mailer } from '../ports/mailer.js';

/**
 * Bounds on each step of one SMTP session. Their sum stays well under the outbox lease (60 s), so
 * a slow server is given up on before another dispatcher could deliver the same message again.
 */
export const SMTP_CONNECTION_TIMEOUT_MS = 10_000;
export const SMTP_GREETING_TIMEOUT_MS = 10_000;
export const SMTP_SOCKET_TIMEOUT_MS = 20_000;
export const SMTP_DNS_TIMEOUT_MS = 5_000;

export interface SmtpMailerOptions {
  /**
   * smtp://[user:password@]host[:port] (port 587 by default, STARTTLS whenever the server offers
   * it) or smtps://[user:password@]host[:port] (TLS from the first byte, port 465 by default).
   * User and password are percent-encoded, as in any URL.
   */
  url: string;
  /** The From header: "Relais <notifications@example.cm>" or a bare address. */
  from: string;
}

interface SmtpTarget {
  host: string;
  port: number;
  secure: boolean;
  auth?: { user: string; pass: string };
}

/** Reads an SMTP URL. Errors name the problem, never the URL (it may carry a password). */
export function parseSmtpUrl(url: string): SmtpTarget {
  if (!URL.canParse(url)) throw new AppError('VALIDATION_FAILED', 'SMTP URL: not a URL (expected smtp://user:password@host:port or smtps://...)');
  const parsed = new URL(url);
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') throw new AppError('VALIDATION_FAILED', 'SMTP URL: the scheme must be smtp:// or smtps://');
  if (!parsed.hostname) throw new AppError('VALIDATION_FAILED', 'SMTP URL: the host is missing');
  const secure = parsed.protocol === 'smtps:';
  const target: SmtpTarget = { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port: parsed.port ? Number(parsed.port) : secure ? 465 : 587, secure };
  if (parsed.username || parsed.password) {
    target.auth = { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) };
  }
  return target;
}

/**
 * Mailer over SMTP with nodemailer: one connection per message (notifications are few; a pool
 * would hold idle connections the server drops anyway). Failures become AppErrors whose message
 * names the server by host and port and the SMTP reply code only: the URL's credentials and the
 * server's reply text (which may echo commands) never reach logs or the outbox.
 */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const target = parseSmtpUrl(options.url);
  const transport = nodemailer.createTransport({
    ...target,
    connectionTimeout: SMTP_CONNECTION_TIMEOUT_MS,
    greetingTimeout: SMTP_GREETING_TIMEOUT_MS,
    socketTimeout: SMTP_SOCKET_TIMEOUT_MS,
    dnsTimeout: SMTP_DNS_TIMEOUT_MS,
    logger: false,
  });
  const server = `${target.host}:${target.port}`;
  return {
    async send(message) {
      try {
        await transport.sendMail({ from: options.from, to: message.to, subject: message.subject, text: message.text, html: message.html });
      } catch (error) {
        throw smtpError(error, server);
      }
    },
  };
}

/** SMTP codes nodemailer raises when it refused the message itself: sending it again cannot help. */
const LOCAL_REFUSALS = new Set(['EENVELOPE', 'EMESSAGE', 'ECONFIG']);

function smtpError(error: unknown, server: string): AppError {
  const { code, responseCode, permanent } = (error ?? {}) as { code?: unknown; responseCode?: unknown; permanent?: unknown };
  const details = { ...(typeof code === 'string' ? { code } : {}), ...(typeof responseCode === 'number' ? { responseCode } : {}) };
  const reply = typeof responseCode === 'number' ? ` (${responseCode})` : '';
  // 5xx but 503 (nodemailer's `permanent`): the same message would be refused again.
  if (permanent === true) {
    if (code === 'EAUTH') return new AppError('GATEWAY_AUTH_FAILED', `SMTP server ${server} refused the login${reply}: check the user and password of SMTP_URL`, { details });
    return new AppError('GATEWAY_REJECTED', `SMTP server ${server} refused the message${reply}`, { details });
  }
  if (typeof responseCode !== 'number' && typeof code === 'string' && LOCAL_REFUSALS.has(code)) {
    return new AppError('GATEWAY_REJECTED', `the message for ${server} could not be sent as it is (${code})`, { details });
  }
  // Connection refused or dropped, timeouts, DNS, TLS, 4xx replies: worth another try later.
  return new AppError('DEPENDENCY_UNAVAILABLE', `SMTP server ${server} is unavailable${reply || (typeof code === 'string' ? ` (${code})` : '')}`, { details });
}
