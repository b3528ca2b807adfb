import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import {
  HotspotState,
  RouterOsTrap,
  type LoginOptions,
  type NewSimUser,
  type SimActiveSession,
  type SimCookie,
  type SimHotspotServer,
  type SimHotspotUser,
  type SimUserProfile,
} from './hotspot-state.js';
import { executeCommand, parseCommand, type ApiCommand, type RouterContext } from './routeros-commands.js';
import {
  routerOsFaultsSchema,
  routerOsSimulatorOptionsSchema,
  userProfileOptionSchema,
  type RouterOsSimulatorFaults,
  type RouterOsSimulatorOptions,
} from './routeros-sim-schemas.js';
import { encodeSentence, encodeSentences, SentenceReader } from './routeros-wire.js';

/**
 * A MikroTik router's API over real TCP, following shared/INTEGRATIONS.md ("MikroTik RouterOS
 * API"): login (>= 6.43 style), tagged commands, `!re`/`!done`/`!trap`/`!fatal` and, from 7.18 on,
 * `!empty`; the hotspot paths Relais uses; and the faults a client must survive.
 * Controlled in-process through the returned handle.
 */

export interface ReceivedCommand {
  /** Words as received, password values masked. */
  words: string[];
  at: Date;
}

export interface SeedSessionsOptions {
  /** Profile of the seeded users (default "default"). */
  profile?: string;
  /** limit-uptime of the seeded users, so session-time-left shows (default 1 day; 0 for none). */
  limitUptimeSeconds?: number;
}

export interface RouterOsSimulator {
  host: string;
  port: number;
  credentials: { username: string; password: string };
  /** As /system/resource/print reports it, e.g. "7.18.2 (stable)". */
  version: string;
  /** True when the version answers empty prints with `!empty` (7.18 and later). */
  sendsEmpty: boolean;

  addUserProfile(profile: { name: string; rateLimit?: string; sharedUsers?: number; sessionTimeoutSeconds?: number }): SimUserProfile;
  userProfiles(): SimUserProfile[];
  hotspotServers(): SimHotspotServer[];
  /** Adds a hotspot user as `/ip/hotspot/user/add` would (same checks; throws on duplicates). */
  addUser(user: NewSimUser): SimHotspotUser;
  users(): SimHotspotUser[];
  findUser(name: string): SimHotspotUser | undefined;
  /** A device logs in on the hotspot page as this user: a new active session and a login cookie. */
  login(userName: string, options?: LoginOptions): SimActiveSession;
  /** A device that was kicked comes back: logged straight back in when it still has a cookie. */
  deviceReturns(macAddress: string): SimActiveSession | undefined;
  /** Adds `count` users (seed-00001, ...), each with one session already under way. */
  seedSessions(count: number, options?: SeedSessionsOptions): SimActiveSession[];
  activeSessions(): SimActiveSession[];
  /** Ends matching sessions (all when no filter) as a logout would; returns how many. */
  endSessions(filter?: { id?: string; user?: string }): number;
  cookies(): SimCookie[];
  /** Moves simulated time forward: sessions grow in uptime and bytes, and end at their limits. */
  advanceTime(ms: number): void;
  now(): Date;
  /** Merges into the faults in force (set a field to false/0 to clear it). */
  setFaults(faults: RouterOsSimulatorFaults): Promise<void>;
  /** Resets every open API connection (TCP RST): clients see ECONNRESET. */
  resetConnections(): number;
  /** The last commands received (at most 1 000), oldest first. */
  commands(): ReceivedCommand[];
  openConnections(): number;
  close(): Promise<void>;
}

const COMMAND_LOG_LIMIT = 1_000;
const SEED_USER_LIMIT_SECONDS = 86_400;
const DEFAULT_USER_PROFILES = [
  { name: 'default', sharedUsers: 1 },
  { name: 'wifi-1d', rateLimit: '2M/5M', sharedUsers: 1 },
];

/** 7.18 and later say `!empty` for a print with no rows. */
function sendsEmptyReply(version: string): boolean {
  const [major = 0, minor = 0] = version.split(/[. ]/).map(Number);
  return major > 7 || (major === 7 && minor >= 18);
}

function maskSecrets(words: readonly string[]): string[] {
  return words.map((word) => (word.startsWith('=password=') ? '=password=***' : word));
}

interface Connection {
  socket: Socket;
  reader: SentenceReader;
  loggedIn: boolean;
  /** Replies leave in the order commands came. */
  queue: Promise<void>;
}

export async function startRouterOsSimulator(input: RouterOsSimulatorOptions = {}): Promise<RouterOsSimulator> {
  const options = routerOsSimulatorOptionsSchema.parse(input);
  let faults = routerOsFaultsSchema.parse(options.faults);
  const version = /\(/.test(options.version) ? options.version : `${options.version} (stable)`;
  const sendsEmpty = sendsEmptyReply(options.version);

  const startedAtMs = Date.now();
  let offsetMs = 0;
  const clock = { nowMs: () => (options.clock === 'manual' ? startedAtMs : Date.now()) + offsetMs };
  const state = new HotspotState(clock);
  for (const server of options.hotspotServers ?? [{ name: 'hotspot1', dnsName: 'wifi.relais.test' }]) state.addServer(server);
  for (const profile of DEFAULT_USER_PROFILES) {
    if (profile.name === 'default' || !options.userProfiles) state.addProfile(profile);
  }
  for (const profile of options.userProfiles ?? []) {
    if (profile.name === 'default') Object.assign(state.profiles.get('default')!, profile);
    else state.addProfile(profile);
  }
  const context: RouterContext = { state, identity: options.identity, version, bootedAtMs: clock.nowMs(), nowMs: clock.nowMs };

  const connections = new Set<Connection>();
  const timers = new Set<NodeJS.Timeout>();
  const commandLog: ReceivedCommand[] = [];
  let seeded = 0;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  function seedSessions(count: number, seedOptions: SeedSessionsOptions = {}): SimActiveSession[] {
    const limit = seedOptions.limitUptimeSeconds ?? SEED_USER_LIMIT_SECONDS;
    const sessions: SimActiveSession[] = [];
    for (let index = 0; index < count; index += 1) {
      seeded += 1;
      const name = `seed-${String(seeded).padStart(5, '0')}`;
      state.addUser({ name, password: name, profile: seedOptions.profile ?? 'default', limitUptimeSeconds: limit || undefined, comment: 'seeded by the simulator' });
      sessions.push(
        state.login(name, {
          // Spread over the last hour, with varied traffic, so prints look like a busy router.
          startedSecondsAgo: (seeded * 37) % 3_600,
          bytesInPerSecond: 500 + (seeded % 10) * 150,
          bytesOutPerSecond: 5_000 + (seeded % 7) * 2_500,
        }),
      );
    }
    return sessions;
  }

  function replyTo(connection: Connection, command: ApiCommand): string[][] {
    const tag = command.tag === undefined ? [] : [`.tag=${command.tag}`];
    const trap = (error: RouterOsTrap) => [
      ['!trap', ...tag, ...(error.category === undefined ? [] : [`=category=${error.category}`]), `=message=${error.message}`],
      ['!done', ...tag],
    ];
    if (command.path === '/login') {
      const accepted = !faults.badLogin && command.attributes.get('name') === options.username && command.attributes.get('password') === options.password;
      if (!accepted) return trap(new RouterOsTrap('invalid user name or password (6)'));
      connection.loggedIn = true;
      return [['!done', ...tag]];
    }
    if (!connection.loggedIn) return trap(new RouterOsTrap('not logged in'));
    try {
      const result = executeCommand(context, command);
      const sentences = result.rows.map((row) => ['!re', ...tag, ...Object.entries(row).map(([name, value]) => `=${name}=${value}`)]);
      if (result.isPrint && result.rows.length === 0 && sendsEmpty) sentences.push(['!empty', ...tag]);
      sentences.push(['!done', ...tag, ...(result.ret === undefined ? [] : [`=ret=${result.ret}`])]);
      return sentences;
    } catch (error) {
      if (error instanceof RouterOsTrap) return trap(error);
      throw error;
    }
  }

  async function answer(connection: Connection, words: string[]): Promise<void> {
    if (words.length === 0) return; // an empty sentence asks nothing
    commandLog.push({ words: maskSecrets(words), at: new Date(clock.nowMs()) });
    if (commandLog.length > COMMAND_LOG_LIMIT) commandLog.splice(0, commandLog.length - COMMAND_LOG_LIMIT);
    if (faults.latencyMs) await pause(faults.latencyMs);
    const { socket } = connection;
    if (socket.destroyed || faults.hang) return;
    const command = parseCommand(words);
    const tag = command.tag === undefined ? [] : [`.tag=${command.tag}`];

    if (faults.garbage) {
      socket.write(Buffer.concat([encodeSentence(['!gibberish', ...tag, '=what=noise']), randomBytes(48)]));
      return;
    }
    if (faults.fatal || command.path === '/quit') {
      socket.end(encodeSentence(['!fatal', command.path === '/quit' ? 'session terminated on request' : 'router is shutting down']));
      return;
    }
    const reply = encodeSentences(replyTo(connection, command));
    if (faults.dropMidReply) {
      socket.write(reply.subarray(0, Math.max(1, Math.floor(reply.length / 2))), () => socket.destroy());
      return;
    }
    if (faults.fragmentBytes) {
      for (let offset = 0; offset < reply.length && !socket.destroyed; offset += faults.fragmentBytes) {
        socket.write(reply.subarray(offset, offset + faults.fragmentBytes));
        await pause(1);
      }
      return;
    }
    socket.write(reply);
  }

  function accept(socket: Socket): void {
    socket.setNoDelay(true); // a reply in pieces must leave in pieces
    const connection: Connection = { socket, reader: new SentenceReader(), loggedIn: false, queue: Promise.resolve() };
    connections.add(connection);
    socket.on('close', () => connections.delete(connection));
    socket.on('error', () => socket.destroy()); // a client that resets is none of our concern
    socket.on('data', (chunk: Buffer) => {
      if (faults.hang) return;
      let sentences: string[][];
      try {
        sentences = connection.reader.push(chunk);
      } catch {
        socket.destroy(); // not the API protocol: RouterOS drops such a peer
        return;
      }
      for (const words of sentences) {
        connection.queue = connection.queue.then(() => answer(connection, words)).catch(() => {
          socket.destroy();
        });
      }
    });
  }

  let listener: Server | undefined;
  async function listen(port: number): Promise<number> {
    const server = createServer(accept);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, options.host, () => resolve());
    });
    listener = server;
    return (server.address() as AddressInfo).port;
  }
  function stopListening(): void {
    // Only the listening socket: connections already open go on.
    listener?.close();
    listener = undefined;
  }

  const port = await listen(options.port);
  if (faults.refuseConnections) stopListening();
  if (options.sessions > 0) seedSessions(options.sessions);

  return {
    host: options.host,
    port,
    credentials: { username: options.username, password: options.password },
    version,
    sendsEmpty,
    addUserProfile: (profile) => state.addProfile(userProfileOptionSchema.parse(profile)),
    userProfiles: () => [...state.profiles.values()].map((profile) => ({ ...profile })),
    hotspotServers: () => state.servers.map((server) => ({ ...server })),
    addUser: (user) => state.addUser(user),
    users: () => state.users(),
    findUser: (name) => state.findUser(name),
    login: (userName, loginOptions) => state.login(userName, loginOptions),
    deviceReturns: (macAddress) => state.deviceReturns(macAddress),
    seedSessions,
    activeSessions: () => state.activeSessions(),
    endSessions(filter = {}) {
      const ending = state.activeSessions().filter((session) => (filter.id === undefined || session.id === filter.id) && (filter.user === undefined || session.user === filter.user));
      for (const session of ending) state.endSession(session.id);
      return ending.length;
    },
    cookies: () => state.cookieList(),
    advanceTime(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`time only moves forward: ${ms}`);
      offsetMs += ms;
      state.settle();
    },
    now: () => new Date(clock.nowMs()),
    async setFaults(update) {
      const parsed = routerOsFaultsSchema.parse(update);
      faults = { ...faults, ...parsed };
      if (faults.refuseConnections && listener) stopListening();
      if (!faults.refuseConnections && !listener) await listen(port);
    },
    resetConnections() {
      const open = [...connections];
      for (const connection of open) connection.socket.resetAndDestroy();
      return open.length;
    },
    commands: () => commandLog.map((command) => ({ words: [...command.words], at: command.at })),
    openConnections: () => connections.size,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const connection of connections) connection.socket.destroy();
      const closing = listener;
      listener = undefined;
      if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
  };
}
