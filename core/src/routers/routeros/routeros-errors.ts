import { getSystemErrorName } from 'node:util';
import { AppError } from '../../shared/app-error.js';

/**
 * How RouterOS failures become AppErrors. Messages are English and name the router by host and
 * port; the API password never appears: our own texts do not contain it and the router's texts
 * are scrubbed of it. Library errors are not attached as `cause` (they may echo what was sent).
 */

export interface RouterTarget {
  host: string;
  port: number;
  /** Scrubbed from every text that comes from the router. */
  password: string;
}

export type UnreachableReason = 'timeout' | 'connection_failed' | 'connection_lost' | 'protocol_error' | 'session_terminated' | 'closed';
export type CommandFailureReason = 'duplicate_user' | 'unknown_profile' | 'no_such_item' | 'unexpected_reply';

const where = (target: RouterTarget) => `${target.host}:${target.port}`;

export function withoutPassword(text: string, target: RouterTarget): string {
  return target.password === '' ? text : text.split(target.password).join('***');
}

export function routerUnreachable(target: RouterTarget, reason: UnreachableReason, message: string, details: Record<string, unknown> = {}): AppError {
  return new AppError('ROUTER_UNREACHABLE', withoutPassword(message, target), { details: { host: target.host, port: target.port, reason, ...details } });
}

export function routerTimedOut(target: RouterTarget, timeoutMs: number, during: string): AppError {
  return routerUnreachable(target, 'timeout', `Router ${where(target)} did not answer ${during} within ${timeoutMs} ms`, { timeoutMs });
}

export function routerProtocolError(target: RouterTarget, what: string): AppError {
  return routerUnreachable(target, 'protocol_error', `Router ${where(target)} broke the RouterOS API protocol (${what}); connection closed`);
}

/** What node-routeros rejects with when the socket fails: a RosException whose errno is a code or a negative OS errno. */
export function routerConnectionError(target: RouterTarget, error: unknown, phase: 'connect' | 'session'): AppError {
  const errno = (error as { errno?: unknown } | undefined)?.errno;
  let code: string | undefined;
  if (typeof errno === 'string') code = errno;
  else if (typeof errno === 'number' && errno < 0) {
    try {
      code = getSystemErrorName(errno);
    } catch {
      code = undefined; // not an OS errno: the reason below still says what happened
    }
  }
  if (phase === 'connect') {
    return routerUnreachable(target, 'connection_failed', `Cannot connect to router ${where(target)}${code ? ` (${code})` : ''}`, code ? { code } : {});
  }
  return routerUnreachable(target, 'connection_lost', `Lost the connection to router ${where(target)}${code ? ` (${code})` : ''}`, code ? { code } : {});
}

export function routerAuthFailed(target: RouterTarget, username: string, routerMessage?: string): AppError {
  const said = routerMessage ? `: ${withoutPassword(routerMessage, target)}` : '';
  return new AppError('ROUTER_AUTH_FAILED', `Router ${where(target)} refused the API login of user "${username}"${said}`, {
    details: { host: target.host, port: target.port, username },
  });
}

/** RouterOS's `!trap` texts we act on (shared/INTEGRATIONS.md). */
function reasonOf(routerMessage: string): CommandFailureReason | undefined {
  if (/already have (?:user|such)/i.test(routerMessage)) return 'duplicate_user';
  if (/input does not match any value of profile/i.test(routerMessage)) return 'unknown_profile';
  if (/no such item/i.test(routerMessage)) return 'no_such_item';
  return undefined;
}

export function routerCommandFailed(target: RouterTarget, command: string, routerMessage: string): AppError {
  const message = withoutPassword(routerMessage, target);
  const reason = reasonOf(message);
  return new AppError('ROUTER_COMMAND_FAILED', `Router ${where(target)} rejected ${command}: ${message}`, {
    details: { host: target.host, port: target.port, command, routerMessage: message, ...(reason ? { reason } : {}) },
  });
}

export function routerUnexpectedReply(target: RouterTarget, command: string, problem: string): AppError {
  return new AppError('ROUTER_COMMAND_FAILED', `Router ${where(target)} answered ${command} with something we cannot read: ${withoutPassword(problem, target)}`, {
    details: { host: target.host, port: target.port, command, reason: 'unexpected_reply' },
  });
}
