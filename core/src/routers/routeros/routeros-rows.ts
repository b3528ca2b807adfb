import { z } from 'zod';
import { parseByteCount, parseRouterOsDuration } from '../routeros-values.js';

/**
 * The rows a router sends, read at the edge: RouterOS strings in, seconds, bytes and booleans
 * out. Empty strings count as absent (RouterOS prints unset properties that way).
 */

const present = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);

const optionalText = z.string().optional().transform(present);

const duration = z.string().transform((text, context) => {
  const seconds = parseRouterOsDuration(text);
  if (seconds === undefined) {
    context.addIssue({ code: 'custom', message: `not a RouterOS duration: "${text.slice(0, 40)}"` });
    return z.NEVER;
  }
  return seconds;
});

const byteCount = z.string().transform((text, context) => {
  const bytes = parseByteCount(text);
  if (bytes === undefined) {
    context.addIssue({ code: 'custom', message: `not a byte count: "${text.slice(0, 40)}"` });
    return z.NEVER;
  }
  return bytes;
});

const routerBoolean = z.enum(['true', 'false', 'yes', 'no']).transform((text) => text === 'true' || text === 'yes');

/** shared-users may be a number or "unlimited" (and is absent on some versions). */
const sharedUsers = z
  .string()
  .optional()
  .transform((text) => (text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined));

export const identityRowSchema = z.object({ name: z.string() });
export const resourceRowSchema = z.object({ version: z.string().min(1) });

export const hotspotServerRowSchema = z.object({ name: z.string().min(1), profile: optionalText, 'dns-name': optionalText });
export const hotspotServerProfileRowSchema = z.object({ name: z.string().min(1), 'dns-name': optionalText });

export const userProfileRowSchema = z
  .object({ name: z.string().min(1), 'rate-limit': optionalText, 'shared-users': sharedUsers })
  .transform((row) => ({ name: row.name, rateLimit: row['rate-limit'], sharedUsers: row['shared-users'] }));

export const hotspotUserRowSchema = z
  .object({
    '.id': z.string().min(1),
    name: z.string().min(1),
    profile: optionalText,
    // An unused voucher prints uptime=0s; some versions leave counters out until first use.
    uptime: duration.default(0),
    'bytes-in': byteCount.default(0),
    'bytes-out': byteCount.default(0),
    disabled: routerBoolean.default(false),
    comment: optionalText,
  })
  .transform((row) => ({
    id: row['.id'],
    name: row.name,
    profile: row.profile,
    uptimeSeconds: row.uptime,
    bytesIn: row['bytes-in'],
    bytesOut: row['bytes-out'],
    disabled: row.disabled,
    comment: row.comment,
  }));

export const activeSessionRowSchema = z
  .object({
    '.id': z.string().min(1),
    server: optionalText,
    user: z.string().min(1),
    address: optionalText,
    'mac-address': optionalText,
    uptime: duration,
    'session-time-left': duration.optional(),
    'idle-time': duration.optional(),
    'bytes-in': byteCount,
    'bytes-out': byteCount,
    'login-by': optionalText,
  })
  .transform((row) => ({
    id: row['.id'],
    server: row.server,
    user: row.user,
    address: row.address,
    macAddress: row['mac-address'],
    uptimeSeconds: row.uptime,
    sessionTimeLeftSeconds: row['session-time-left'],
    idleTimeSeconds: row['idle-time'],
    bytesIn: row['bytes-in'],
    bytesOut: row['bytes-out'],
    loginBy: row['login-by'],
  }));

export const itemIdRowSchema = z.object({ '.id': z.string().min(1) });
export const addReplySchema = z.object({ ret: z.string().min(1) });

/** The properties each print asks for (`=.proplist=`): less to send and parse on a 2 000-session router. */
export const PROPLISTS = {
  hotspotServers: 'name,profile,dns-name',
  hotspotServerProfiles: 'name,dns-name',
  userProfiles: 'name,rate-limit,shared-users',
  hotspotUsers: '.id,name,profile,uptime,bytes-in,bytes-out,disabled,comment',
  activeSessions: '.id,server,user,address,mac-address,uptime,session-time-left,idle-time,bytes-in,bytes-out,login-by',
} as const;
