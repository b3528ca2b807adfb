/**
 * A MikroTik router's hotspot, as core needs it. The RouterOS API adapter implements it
 * (core/src/routers/routeros/); values arrive parsed (seconds, bytes), never as RouterOS strings.
 *
 * Failures are AppErrors: ROUTER_UNREACHABLE (no answer, timeout, dropped connection),
 * ROUTER_AUTH_FAILED (bad API credentials), ROUTER_COMMAND_FAILED (a `!trap`; `details.reason`
 * says which when we know: 'duplicate_user', 'unknown_profile', 'no_such_item').
 */
export interface RouterConnectionOptions {
  host: string;
  port: number;
  tls: boolean;
  username: string;
  password: string;
  /** Connect and per-command timeout. */
  timeoutMs: number;
}

export interface RouterIdentity {
  name: string;
  /** e.g. "7.18.2 (stable)". */
  version: string;
}

export interface HotspotServer {
  name: string;
  /** The hotspot profile's dns-name, used for login URLs; undefined when not set. */
  dnsName?: string;
}

export interface HotspotUserProfile {
  name: string;
  rateLimit?: string;
  sharedUsers?: number;
}

export interface NewHotspotUser {
  name: string;
  password: string;
  profile: string;
  server?: string;
  limitUptimeSeconds?: number;
  limitBytesTotal?: number;
  comment?: string;
}

export interface HotspotUser {
  /** RouterOS `.id`, e.g. "*1A". */
  id: string;
  name: string;
  profile?: string;
  uptimeSeconds: number;
  bytesIn: number;
  bytesOut: number;
  disabled: boolean;
  comment?: string;
}

export interface HotspotActiveSession {
  /** RouterOS `.id` of the active entry. */
  id: string;
  server?: string;
  user: string;
  address?: string;
  macAddress?: string;
  uptimeSeconds: number;
  sessionTimeLeftSeconds?: number;
  idleTimeSeconds?: number;
  bytesIn: number;
  bytesOut: number;
  loginBy?: string;
}

/** One logged-in API connection. Always `close()` it (in a finally). */
export interface RouterSession {
  identity(): Promise<RouterIdentity>;
  listHotspotServers(): Promise<HotspotServer[]>;
  listUserProfiles(): Promise<HotspotUserProfile[]>;
  /** Returns the new user's `.id`. */
  addHotspotUser(user: NewHotspotUser): Promise<{ id: string }>;
  /** All hotspot users, or only those with the given names. */
  listHotspotUsers(filter?: { names?: readonly string[] }): Promise<HotspotUser[]>;
  removeHotspotUser(id: string): Promise<void>;
  listActiveSessions(): Promise<HotspotActiveSession[]>;
  /** Kicks a session off the hotspot. */
  removeActiveSession(id: string): Promise<void>;
  /** Removes the login cookies of a user, so a kicked device cannot log straight back in. */
  removeCookiesOfUser(userName: string): Promise<number>;
  close(): Promise<void>;
}

export interface RouterClient {
  /** Connects and logs in; rejects with ROUTER_UNREACHABLE or ROUTER_AUTH_FAILED. */
  connect(options: RouterConnectionOptions): Promise<RouterSession>;
}
