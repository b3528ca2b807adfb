import type { z } from 'zod';
import { isAppError } from '../../shared/app-error.js';
import type {
  HotspotActiveSession,
  HotspotServer,
  HotspotUser,
  HotspotUserProfile,
  NewHotspotUser,
  RouterClient,
  RouterConnectionOptions,
  RouterIdentity,
  RouterSession,
} from '../../shared/ports/router-client.js';
import { formatRouterOsDuration } from '../routeros-values.js';
import { RouterOsConnection, type RouterRow } from './routeros-connection.js';
import { routerUnexpectedReply, type RouterTarget } from './routeros-errors.js';
import {
  activeSessionRowSchema,
  addReplySchema,
  hotspotServerProfileRowSchema,
  hotspotServerRowSchema,
  hotspotUserRowSchema,
  identityRowSchema,
  itemIdRowSchema,
  PROPLISTS,
  resourceRowSchema,
  userProfileRowSchema,
} from './routeros-rows.js';

/** Names per filtered print: keeps each sentence small whatever the caller asks for. */
const NAMES_PER_QUERY = 100;

/** The RouterOS API adapter of the RouterClient port (node-routeros 1.6.9, guarded: see RouterOsConnection). */
export function createRouterOsClient(): RouterClient {
  return {
    async connect(options: RouterConnectionOptions): Promise<RouterSession> {
      const connection = await RouterOsConnection.open(options);
      return new RouterOsSession(connection, { host: options.host, port: options.port, password: options.password });
    },
  };
}

class RouterOsSession implements RouterSession {
  constructor(
    private readonly connection: RouterOsConnection,
    private readonly target: RouterTarget,
  ) {}

  async identity(): Promise<RouterIdentity> {
    const [identity] = await this.print('/system/identity/print', identityRowSchema);
    const [resource] = await this.print('/system/resource/print', resourceRowSchema, ['=.proplist=version']);
    if (!identity || !resource) throw routerUnexpectedReply(this.target, '/system/identity/print', 'no row');
    return { name: identity.name, version: resource.version };
  }

  async listHotspotServers(): Promise<HotspotServer[]> {
    const servers = await this.print('/ip/hotspot/print', hotspotServerRowSchema, [`=.proplist=${PROPLISTS.hotspotServers}`]);
    // RouterOS keeps dns-name on the server's profile (/ip/hotspot/profile); read it there when the server row lacks it.
    let dnsNameOfProfile = new Map<string, string | undefined>();
    if (servers.some((server) => !server['dns-name'] && server.profile)) {
      const profiles = await this.print('/ip/hotspot/profile/print', hotspotServerProfileRowSchema, [`=.proplist=${PROPLISTS.hotspotServerProfiles}`]);
      dnsNameOfProfile = new Map(profiles.map((profile) => [profile.name, profile['dns-name']]));
    }
    return servers.map((server) => {
      const dnsName = server['dns-name'] ?? (server.profile ? dnsNameOfProfile.get(server.profile) : undefined);
      return dnsName ? { name: server.name, dnsName } : { name: server.name };
    });
  }

  async listUserProfiles(): Promise<HotspotUserProfile[]> {
    const profiles = await this.print('/ip/hotspot/user/profile/print', userProfileRowSchema, [`=.proplist=${PROPLISTS.userProfiles}`]);
    return profiles.map((profile) => withoutUndefined(profile));
  }

  async addHotspotUser(user: NewHotspotUser): Promise<{ id: string }> {
    const words = [`=name=${user.name}`, `=password=${user.password}`, `=profile=${user.profile}`];
    if (user.server) words.push(`=server=${user.server}`);
    if (user.limitUptimeSeconds) words.push(`=limit-uptime=${formatRouterOsDuration(user.limitUptimeSeconds)}`);
    if (user.limitBytesTotal) words.push(`=limit-bytes-total=${user.limitBytesTotal}`);
    if (user.comment) words.push(`=comment=${user.comment}`);
    const command = '/ip/hotspot/user/add';
    const reply = addReplySchema.safeParse((await this.connection.run(command, words)).at(-1));
    if (!reply.success) throw routerUnexpectedReply(this.target, command, 'no id of the new user (=ret=)');
    return { id: reply.data.ret };
  }

  async listHotspotUsers(filter?: { names?: readonly string[] }): Promise<HotspotUser[]> {
    const proplist = `=.proplist=${PROPLISTS.hotspotUsers}`;
    if (!filter?.names) return (await this.print('/ip/hotspot/user/print', hotspotUserRowSchema, [proplist])).map(withoutUndefined);
    const names = [...new Set(filter.names)];
    const users: HotspotUser[] = [];
    for (let start = 0; start < names.length; start += NAMES_PER_QUERY) {
      const batch = names.slice(start, start + NAMES_PER_QUERY);
      // One `?name=` per name, then `?#|...|` ORs them together (RouterOS query stack).
      const queries = batch.map((name) => `?name=${name}`);
      if (batch.length > 1) queries.push(`?#${'|'.repeat(batch.length - 1)}`);
      users.push(...(await this.print('/ip/hotspot/user/print', hotspotUserRowSchema, [proplist, ...queries])).map(withoutUndefined));
    }
    return users;
  }

  async removeHotspotUser(id: string): Promise<void> {
    await this.connection.run('/ip/hotspot/user/remove', [`=.id=${id}`]);
  }

  async listActiveSessions(): Promise<HotspotActiveSession[]> {
    const sessions = await this.print('/ip/hotspot/active/print', activeSessionRowSchema, [`=.proplist=${PROPLISTS.activeSessions}`]);
    return sessions.map(withoutUndefined);
  }

  async removeActiveSession(id: string): Promise<void> {
    await this.connection.run('/ip/hotspot/active/remove', [`=.id=${id}`]);
  }

  async removeCookiesOfUser(userName: string): Promise<number> {
    const cookies = await this.print('/ip/hotspot/cookie/print', itemIdRowSchema, ['=.proplist=.id', `?user=${userName}`]);
    let removed = 0;
    for (const cookie of cookies) {
      try {
        await this.connection.run('/ip/hotspot/cookie/remove', [`=.id=${cookie['.id']}`]);
        removed += 1;
      } catch (error) {
        // Gone between print and remove (expired, or the user logged out): what we wanted anyway.
        if (!(isAppError(error) && error.details?.reason === 'no_such_item')) throw error;
      }
    }
    return removed;
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  private async print<Schema extends z.ZodType>(command: string, schema: Schema, words: string[] = []): Promise<z.output<Schema>[]> {
    const rows: RouterRow[] = await this.connection.run(command, words);
    return rows.map((row, index) => {
      const parsed = schema.safeParse(row);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw routerUnexpectedReply(this.target, command, `row ${index + 1}, ${issue?.path.join('.') || 'row'}: ${issue?.message ?? 'invalid'}`);
      }
      return parsed.data;
    });
  }
}

/** Ports promise optional fields, not fields set to undefined. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
