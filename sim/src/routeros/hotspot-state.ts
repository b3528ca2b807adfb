/**
 * What a simulated MikroTik hotspot holds: servers, user profiles, users, active sessions and
 * login cookies, on a clock that can run with real time or only when told to. Sessions consume
 * time and bytes as the clock moves, and end by themselves when a user's limit is used up.
 */

/** A `!trap` the API answers with; `message` is RouterOS's own wording. */
export class RouterOsTrap extends Error {
  constructor(
    message: string,
    readonly category?: number,
  ) {
    super(message);
  }
}

export interface SimHotspotServer {
  id: string;
  name: string;
  interface: string;
  addressPool: string;
  /** The hotspot server profile, which holds the dns-name. */
  profile: string;
  dnsName: string;
}

export interface SimUserProfile {
  id: string;
  name: string;
  rateLimit?: string;
  sharedUsers: number;
  sessionTimeoutSeconds?: number;
}

export interface SimHotspotUser {
  id: string;
  name: string;
  password: string;
  profile: string;
  /** A server name, or "all". */
  server: string;
  limitUptimeSeconds?: number;
  limitBytesTotal?: number;
  macAddress?: string;
  comment?: string;
  disabled: boolean;
  /** Totals of the user's ended sessions (RouterOS adds a session when it ends). */
  uptimeSeconds: number;
  bytesIn: number;
  bytesOut: number;
}

export interface SimActiveSession {
  id: string;
  server: string;
  user: string;
  address: string;
  macAddress: string;
  loginBy: 'http-chap' | 'http-pap' | 'cookie' | 'mac';
  uptimeSeconds: number;
  /** Undefined when neither the user nor the profile limits the time. */
  sessionTimeLeftSeconds?: number;
  bytesIn: number;
  bytesOut: number;
}

export interface SimCookie {
  id: string;
  user: string;
  macAddress: string;
  expiresInSeconds: number;
}

export interface SessionTraffic {
  /** From the device to the router (upload), per second of session. */
  bytesInPerSecond?: number;
  /** From the router to the device (download), per second of session. */
  bytesOutPerSecond?: number;
}

export interface LoginOptions extends SessionTraffic {
  address?: string;
  macAddress?: string;
  loginBy?: SimActiveSession['loginBy'];
  /** The session began this long before now (seeding sessions that are already under way). */
  startedSecondsAgo?: number;
}

interface SessionRecord {
  id: string;
  server: string;
  userId: string;
  address: string;
  macAddress: string;
  loginBy: SimActiveSession['loginBy'];
  startedAtMs: number;
  bytesInPerSecond: number;
  bytesOutPerSecond: number;
  /** Sim time at which a limit ends the session by itself; Infinity when unlimited. */
  endsAtMs: number;
  /** Seconds of uptime left when the session started; undefined when unlimited. */
  timeLeftAtStartSeconds?: number;
}

interface CookieRecord {
  id: string;
  userId: string;
  macAddress: string;
  expiresAtMs: number;
}

export interface NewSimUser {
  name: string;
  password?: string;
  profile?: string;
  server?: string;
  limitUptimeSeconds?: number;
  limitBytesTotal?: number;
  macAddress?: string;
  comment?: string;
  disabled?: boolean;
}

export interface SimClock {
  nowMs(): number;
}

const DEFAULT_BYTES_IN_PER_SECOND = 2_000;
const DEFAULT_BYTES_OUT_PER_SECOND = 20_000;
/** RouterOS's default mac-cookie-timeout. */
const COOKIE_LIFETIME_MS = 3 * 24 * 3600 * 1000;
const BYTES_PER_PACKET = 1_000;

function idCounter(): () => string {
  let next = 1;
  return () => `*${(next++).toString(16).toUpperCase()}`;
}

export class HotspotState {
  readonly servers: SimHotspotServer[] = [];
  readonly profiles = new Map<string, SimUserProfile>();
  private readonly usersById = new Map<string, SimHotspotUser>();
  private readonly usersByName = new Map<string, SimHotspotUser>();
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly cookies = new Map<string, CookieRecord>();
  private readonly nextServerId = idCounter();
  private readonly nextProfileId = idCounter();
  private readonly nextUserId = idCounter();
  private readonly nextSessionId = idCounter();
  private readonly nextCookieId = idCounter();
  private devicesLoggedIn = 0;

  constructor(private readonly clock: SimClock) {}

  addServer(server: { name: string; dnsName?: string }): SimHotspotServer {
    const index = this.servers.length + 1;
    const created: SimHotspotServer = {
      id: this.nextServerId(),
      name: server.name,
      interface: `bridge-hotspot${index}`,
      addressPool: `hs-pool-${index}`,
      profile: `hsprof${index}`,
      dnsName: server.dnsName ?? '',
    };
    this.servers.push(created);
    return created;
  }

  addProfile(profile: { name: string; rateLimit?: string; sharedUsers?: number; sessionTimeoutSeconds?: number }): SimUserProfile {
    if (this.profiles.has(profile.name)) throw new RouterOsTrap('failure: profile with the same name already exists');
    const created: SimUserProfile = { id: this.nextProfileId(), sharedUsers: 1, ...profile };
    this.profiles.set(created.name, created);
    return created;
  }

  addUser(user: NewSimUser): SimHotspotUser {
    if (!user.name) throw new RouterOsTrap('failure: name must be set', 1);
    const profile = user.profile ?? 'default';
    if (!this.profiles.has(profile)) throw new RouterOsTrap('input does not match any value of profile', 1);
    const server = user.server ?? 'all';
    if (server !== 'all' && !this.servers.some((candidate) => candidate.name === server)) throw new RouterOsTrap('input does not match any value of server', 1);
    if (this.usersByName.has(user.name)) throw new RouterOsTrap('failure: already have user with this name for this server');
    const created: SimHotspotUser = {
      id: this.nextUserId(),
      name: user.name,
      password: user.password ?? '',
      profile,
      server,
      limitUptimeSeconds: user.limitUptimeSeconds || undefined,
      limitBytesTotal: user.limitBytesTotal || undefined,
      macAddress: user.macAddress,
      comment: user.comment,
      disabled: user.disabled ?? false,
      uptimeSeconds: 0,
      bytesIn: 0,
      bytesOut: 0,
    };
    this.usersById.set(created.id, created);
    this.usersByName.set(created.name, created);
    return created;
  }

  /** Applies a `set`: the same checks as `add`. */
  updateUser(id: string, changes: Partial<NewSimUser>): void {
    const user = this.requireUser(id);
    if (changes.profile !== undefined && !this.profiles.has(changes.profile)) throw new RouterOsTrap('input does not match any value of profile', 1);
    if (changes.name !== undefined && changes.name !== user.name) {
      if (this.usersByName.has(changes.name)) throw new RouterOsTrap('failure: already have user with this name for this server');
      this.usersByName.delete(user.name);
      this.usersByName.set(changes.name, user);
    }
    for (const [key, value] of Object.entries(changes)) if (value !== undefined) (user as unknown as Record<string, unknown>)[key] = value;
  }

  removeUser(id: string): void {
    const user = this.requireUser(id);
    // RouterOS removes the user's sessions and cookies with it.
    for (const session of [...this.sessions.values()]) if (session.userId === id) this.endSession(session.id);
    for (const cookie of [...this.cookies.values()]) if (cookie.userId === id) this.cookies.delete(cookie.id);
    this.usersById.delete(id);
    this.usersByName.delete(user.name);
  }

  /** The user with this `.id` or, as RouterOS accepts in `numbers`, this name. */
  resolveUserId(idOrName: string): string {
    if (this.usersById.has(idOrName)) return idOrName;
    const byName = this.usersByName.get(idOrName);
    if (byName) return byName.id;
    throw new RouterOsTrap('no such item');
  }

  findUser(name: string): SimHotspotUser | undefined {
    const user = this.usersByName.get(name);
    return user ? { ...user } : undefined;
  }

  users(): SimHotspotUser[] {
    this.settle();
    return [...this.usersById.values()].map((user) => ({ ...user }));
  }

  /** Logs a device in as `userName`, as the hotspot login page would; throws when RouterOS would refuse. */
  login(userName: string, options: LoginOptions = {}): SimActiveSession {
    this.settle();
    const user = this.usersByName.get(userName);
    if (!user) throw new Error(`no hotspot user "${userName}"`);
    if (user.disabled) throw new Error(`hotspot user "${userName}" is disabled`);
    const profile = this.profiles.get(user.profile)!;
    const sessionsOfUser = [...this.sessions.values()].filter((session) => session.userId === user.id).length;
    if (sessionsOfUser >= profile.sharedUsers) throw new Error(`hotspot user "${userName}" already has ${sessionsOfUser} session(s) (shared-users ${profile.sharedUsers})`);
    const timeLeft = this.uptimeLeftSeconds(user, profile);
    if (timeLeft !== undefined && timeLeft <= 0) throw new Error(`hotspot user "${userName}" has used up its uptime limit`);
    if (user.limitBytesTotal !== undefined && user.bytesIn + user.bytesOut >= user.limitBytesTotal) throw new Error(`hotspot user "${userName}" has used up its traffic limit`);

    const nowMs = this.clock.nowMs();
    const startedAtMs = nowMs - (options.startedSecondsAgo ?? 0) * 1000;
    this.devicesLoggedIn += 1;
    const deviceNumber = this.devicesLoggedIn;
    const session: SessionRecord = {
      id: this.nextSessionId(),
      server: user.server === 'all' ? (this.servers[0]?.name ?? 'hotspot1') : user.server,
      userId: user.id,
      address: options.address ?? `10.5.${Math.floor(deviceNumber / 250) % 256}.${(deviceNumber % 250) + 2}`,
      macAddress: options.macAddress ?? macAddressOf(deviceNumber),
      loginBy: options.loginBy ?? 'http-chap',
      startedAtMs,
      bytesInPerSecond: options.bytesInPerSecond ?? DEFAULT_BYTES_IN_PER_SECOND,
      bytesOutPerSecond: options.bytesOutPerSecond ?? DEFAULT_BYTES_OUT_PER_SECOND,
      endsAtMs: Number.POSITIVE_INFINITY,
      timeLeftAtStartSeconds: timeLeft,
    };
    if (timeLeft !== undefined) session.endsAtMs = startedAtMs + timeLeft * 1000;
    if (user.limitBytesTotal !== undefined) {
      const bytesPerSecond = session.bytesInPerSecond + session.bytesOutPerSecond;
      const bytesLeft = user.limitBytesTotal - user.bytesIn - user.bytesOut;
      if (bytesPerSecond > 0) session.endsAtMs = Math.min(session.endsAtMs, startedAtMs + Math.ceil((bytesLeft / bytesPerSecond) * 1000));
    }
    this.sessions.set(session.id, session);
    if (!this.hasCookie(user.id, session.macAddress)) {
      const cookieId = this.nextCookieId();
      this.cookies.set(cookieId, { id: cookieId, userId: user.id, macAddress: session.macAddress, expiresAtMs: nowMs + COOKIE_LIFETIME_MS });
    }
    this.settle();
    return this.sessionView(session, this.clock.nowMs());
  }

  /** A device comes back: with a valid cookie it is logged straight back in (that is why a kick removes cookies). */
  deviceReturns(macAddress: string): SimActiveSession | undefined {
    this.settle();
    const nowMs = this.clock.nowMs();
    const cookie = [...this.cookies.values()].find((candidate) => candidate.macAddress === macAddress && candidate.expiresAtMs > nowMs);
    if (!cookie) return undefined;
    const user = this.usersById.get(cookie.userId);
    if (!user) return undefined;
    if ([...this.sessions.values()].some((session) => session.macAddress === macAddress)) return undefined;
    try {
      return this.login(user.name, { macAddress, loginBy: 'cookie' });
    } catch {
      return undefined; // limits used up or shared-users reached: the cookie does not help
    }
  }

  activeSessions(): SimActiveSession[] {
    this.settle();
    const nowMs = this.clock.nowMs();
    return [...this.sessions.values()].map((session) => this.sessionView(session, nowMs));
  }

  /** Ends a session (a kick, a logout, a limit reached): its time and bytes go to the user's totals. */
  endSession(id: string, atMs: number = this.clock.nowMs()): void {
    const session = this.sessions.get(id);
    if (!session) throw new RouterOsTrap('no such item');
    const user = this.usersById.get(session.userId);
    const usage = this.usage(session, atMs);
    if (user) {
      user.uptimeSeconds += usage.uptimeSeconds;
      user.bytesIn += usage.bytesIn;
      user.bytesOut += usage.bytesOut;
    }
    this.sessions.delete(id);
  }

  cookieList(): SimCookie[] {
    this.settle();
    const nowMs = this.clock.nowMs();
    return [...this.cookies.values()].map((cookie) => ({
      id: cookie.id,
      user: this.usersById.get(cookie.userId)?.name ?? '',
      macAddress: cookie.macAddress,
      expiresInSeconds: Math.max(0, Math.floor((cookie.expiresAtMs - nowMs) / 1000)),
    }));
  }

  removeCookie(id: string): void {
    if (!this.cookies.delete(id)) throw new RouterOsTrap('no such item');
  }

  /** Ends the sessions whose limit was reached at their exact end time, and drops expired cookies. */
  settle(): void {
    const nowMs = this.clock.nowMs();
    for (const session of [...this.sessions.values()]) if (session.endsAtMs <= nowMs) this.endSession(session.id, session.endsAtMs);
    for (const cookie of [...this.cookies.values()]) if (cookie.expiresAtMs <= nowMs) this.cookies.delete(cookie.id);
  }

  /** API rows, RouterOS field names and formats. */
  userRow(user: SimHotspotUser): Record<string, string> {
    const row: Record<string, string> = { '.id': user.id, server: user.server, name: user.name, password: user.password, profile: user.profile };
    if (user.limitUptimeSeconds) row['limit-uptime'] = formatDuration(user.limitUptimeSeconds);
    if (user.limitBytesTotal) row['limit-bytes-total'] = String(user.limitBytesTotal);
    if (user.macAddress) row['mac-address'] = user.macAddress;
    Object.assign(row, {
      uptime: formatDuration(user.uptimeSeconds),
      'bytes-in': String(user.bytesIn),
      'bytes-out': String(user.bytesOut),
      'packets-in': String(Math.ceil(user.bytesIn / BYTES_PER_PACKET)),
      'packets-out': String(Math.ceil(user.bytesOut / BYTES_PER_PACKET)),
      dynamic: 'false',
      disabled: String(user.disabled),
    });
    if (user.comment) row.comment = user.comment;
    return row;
  }

  userRows(): Record<string, string>[] {
    this.settle();
    return [...this.usersById.values()].map((user) => this.userRow(user));
  }

  activeRows(): Record<string, string>[] {
    return this.activeSessions().map((session) => {
      const row: Record<string, string> = {
        '.id': session.id,
        server: session.server,
        user: session.user,
        address: session.address,
        'mac-address': session.macAddress,
        'login-by': session.loginBy,
        uptime: formatDuration(session.uptimeSeconds),
        'idle-time': '0s',
      };
      if (session.sessionTimeLeftSeconds !== undefined) row['session-time-left'] = formatDuration(session.sessionTimeLeftSeconds);
      Object.assign(row, {
        'keepalive-timeout': '2m',
        'bytes-in': String(session.bytesIn),
        'bytes-out': String(session.bytesOut),
        'packets-in': String(Math.ceil(session.bytesIn / BYTES_PER_PACKET)),
        'packets-out': String(Math.ceil(session.bytesOut / BYTES_PER_PACKET)),
        radius: 'false',
      });
      return row;
    });
  }

  cookieRows(): Record<string, string>[] {
    return this.cookieList().map((cookie) => ({
      '.id': cookie.id,
      user: cookie.user,
      domain: '',
      'mac-address': cookie.macAddress,
      'expires-in': formatDuration(cookie.expiresInSeconds),
    }));
  }

  profileRows(): Record<string, string>[] {
    return [...this.profiles.values()].map((profile) => {
      const row: Record<string, string> = { '.id': profile.id, name: profile.name, 'idle-timeout': 'none', 'keepalive-timeout': '2m', 'shared-users': String(profile.sharedUsers) };
      if (profile.rateLimit) row['rate-limit'] = profile.rateLimit;
      if (profile.sessionTimeoutSeconds) row['session-timeout'] = formatDuration(profile.sessionTimeoutSeconds);
      Object.assign(row, { 'add-mac-cookie': 'true', 'mac-cookie-timeout': '3d', default: String(profile.name === 'default') });
      return row;
    });
  }

  serverRows(): Record<string, string>[] {
    return this.servers.map((server) => ({
      '.id': server.id,
      name: server.name,
      interface: server.interface,
      'address-pool': server.addressPool,
      profile: server.profile,
      'idle-timeout': '5m',
      'keepalive-timeout': 'none',
      'addresses-per-mac': '2',
      invalid: 'false',
      disabled: 'false',
    }));
  }

  /** `/ip/hotspot/profile`: the hotspot server profiles, where RouterOS keeps dns-name. */
  serverProfileRows(): Record<string, string>[] {
    return this.servers.map((server, index) => {
      const row: Record<string, string> = { '.id': `*${(index + 1).toString(16).toUpperCase()}`, name: server.profile, 'hotspot-address': `10.5.${index}.1` };
      if (server.dnsName) row['dns-name'] = server.dnsName;
      Object.assign(row, { 'html-directory': 'hotspot', 'login-by': 'cookie,http-chap', 'use-radius': 'false', default: 'false' });
      return row;
    });
  }

  private requireUser(id: string): SimHotspotUser {
    const user = this.usersById.get(id);
    if (!user) throw new RouterOsTrap('no such item');
    return user;
  }

  private hasCookie(userId: string, macAddress: string): boolean {
    for (const cookie of this.cookies.values()) if (cookie.userId === userId && cookie.macAddress === macAddress) return true;
    return false;
  }

  private uptimeLeftSeconds(user: SimHotspotUser, profile: SimUserProfile): number | undefined {
    const limits: number[] = [];
    if (user.limitUptimeSeconds !== undefined) limits.push(user.limitUptimeSeconds - user.uptimeSeconds);
    if (profile.sessionTimeoutSeconds !== undefined) limits.push(profile.sessionTimeoutSeconds);
    return limits.length > 0 ? Math.min(...limits) : undefined;
  }

  private usage(session: SessionRecord, atMs: number): { uptimeSeconds: number; bytesIn: number; bytesOut: number } {
    const elapsedMs = Math.max(0, Math.min(atMs, session.endsAtMs) - session.startedAtMs);
    return {
      uptimeSeconds: Math.floor(elapsedMs / 1000),
      bytesIn: Math.floor((session.bytesInPerSecond * elapsedMs) / 1000),
      bytesOut: Math.floor((session.bytesOutPerSecond * elapsedMs) / 1000),
    };
  }

  private sessionView(session: SessionRecord, nowMs: number): SimActiveSession {
    const usage = this.usage(session, nowMs);
    return {
      id: session.id,
      server: session.server,
      user: this.usersById.get(session.userId)?.name ?? '',
      address: session.address,
      macAddress: session.macAddress,
      loginBy: session.loginBy,
      uptimeSeconds: usage.uptimeSeconds,
      sessionTimeLeftSeconds: session.timeLeftAtStartSeconds === undefined ? undefined : Math.max(0, session.timeLeftAtStartSeconds - usage.uptimeSeconds),
      bytesIn: usage.bytesIn,
      bytesOut: usage.bytesOut,
    };
  }
}

function macAddressOf(deviceNumber: number): string {
  const bytes = [0x02, 0x00, (deviceNumber >>> 24) & 0xff, (deviceNumber >>> 16) & 0xff, (deviceNumber >>> 8) & 0xff, deviceNumber & 0xff];
  return bytes.map((byte) => byte.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

const DURATION_UNITS: Array<[string, number]> = [
  ['w', 604_800],
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
];

/** RouterOS prints durations as `1w2d3h4m5s`, `0s` for zero. */
export function formatDuration(totalSeconds: number): string {
  if (totalSeconds <= 0) return '0s';
  let rest = Math.floor(totalSeconds);
  let text = '';
  for (const [unit, size] of DURATION_UNITS) {
    const count = Math.floor(rest / size);
    if (count > 0) text += `${count}${unit}`;
    rest -= count * size;
  }
  return text;
}

/** Reads a duration as RouterOS accepts it in commands (`1d`, `2h30m`, `3600`); undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const match = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (!match || text === '') return undefined;
  return DURATION_UNITS.reduce((total, [, size], index) => total + Number(match[index + 1] ?? 0) * size, 0);
}
