import { formatDuration, parseDuration, RouterOsTrap, type HotspotState, type NewSimUser } from './hotspot-state.js';

/** One API command as it came over the wire. */
export interface ApiCommand {
  path: string;
  attributes: Map<string, string>;
  /** `?` words in order, without the `?`. */
  queries: string[];
  tag?: string;
}

export interface CommandResult {
  rows: Record<string, string>[];
  /** `!done =ret=`: the new id after `add`, the count after `print count-only`. */
  ret?: string;
  /** A print with no rows: RouterOS >= 7.18 says `!empty` before `!done`. */
  isPrint: boolean;
}

export interface RouterContext {
  state: HotspotState;
  identity: string;
  version: string;
  bootedAtMs: number;
  nowMs(): number;
}

export function parseCommand(words: readonly string[]): ApiCommand {
  const [path = '', ...rest] = words;
  const command: ApiCommand = { path, attributes: new Map(), queries: [] };
  for (const word of rest) {
    if (word.startsWith('.tag=')) command.tag = word.slice('.tag='.length);
    else if (word.startsWith('?')) command.queries.push(word.slice(1));
    else if (word.startsWith('=') || word.startsWith('.proplist=')) {
      const body = word.startsWith('=') ? word.slice(1) : word;
      const separator = body.indexOf('=');
      // A value may itself contain "=" (or be empty): only the first one separates.
      if (separator === -1) command.attributes.set(body, '');
      else command.attributes.set(body.slice(0, separator), body.slice(separator + 1));
    }
  }
  return command;
}

/** Evaluates `?` words on one row: conditions push onto a stack, `?#` operators combine it, the rest is ANDed. */
export function rowMatches(row: Record<string, string>, queries: readonly string[]): boolean {
  const stack: boolean[] = [];
  for (const query of queries) {
    if (query.startsWith('#')) {
      for (const operator of query.slice(1)) {
        if (operator === '!') stack.push(!stack.pop());
        else if (operator === '.') stack.push(stack.at(-1) ?? true);
        else if (operator === '|' || operator === '&') {
          const right = stack.pop() ?? true;
          const left = stack.pop() ?? true;
          stack.push(operator === '|' ? left || right : left && right);
        }
      }
      continue;
    }
    stack.push(condition(row, query));
  }
  return stack.every(Boolean);
}

function condition(row: Record<string, string>, query: string): boolean {
  const operator = query[0];
  if (operator === '-') return !(query.slice(1) in row);
  if (operator === '<' || operator === '>') {
    const [name, value = ''] = splitOnce(query.slice(1));
    const actual = row[name];
    if (actual === undefined) return false;
    const comparison = /^\d+$/.test(actual) && /^\d+$/.test(value) ? Number(actual) - Number(value) : actual.localeCompare(value);
    return operator === '<' ? comparison < 0 : comparison > 0;
  }
  const body = operator === '=' ? query.slice(1) : query;
  if (!body.includes('=')) return body in row;
  const [name, value = ''] = splitOnce(body);
  return row[name] === value;
}

function splitOnce(text: string): [string, string | undefined] {
  const separator = text.indexOf('=');
  return separator === -1 ? [text, undefined] : [text.slice(0, separator), text.slice(separator + 1)];
}

function print(command: ApiCommand, rows: Record<string, string>[]): CommandResult {
  const matching = command.queries.length > 0 ? rows.filter((row) => rowMatches(row, command.queries)) : rows;
  if (command.attributes.has('count-only')) return { rows: [], ret: String(matching.length), isPrint: false };
  const proplist = command.attributes.get('.proplist');
  if (proplist === undefined) return { rows: matching, isPrint: true };
  const names = proplist.split(',').filter(Boolean);
  const projected = matching.map((row) => {
    const kept: Record<string, string> = {};
    for (const name of names) if (row[name] !== undefined) kept[name] = row[name]!;
    return kept;
  });
  return { rows: projected, isPrint: true };
}

/** `=.id=*1,*2` or `=numbers=...`: the items a remove or set acts on. */
function targets(command: ApiCommand): string[] {
  const list = command.attributes.get('.id') ?? command.attributes.get('numbers');
  if (!list) throw new RouterOsTrap('no such item');
  return list.split(',').filter(Boolean);
}

function durationAttribute(command: ApiCommand, name: string): number | undefined {
  const text = command.attributes.get(name);
  if (text === undefined || text === '') return undefined;
  const seconds = parseDuration(text);
  if (seconds === undefined) throw new RouterOsTrap(`value of ${name} must be time interval`, 1);
  return seconds;
}

function byteAttribute(command: ApiCommand, name: string): number | undefined {
  const text = command.attributes.get(name);
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text)) throw new RouterOsTrap(`value of ${name} must be a number`, 1);
  return Number(text);
}

function userFields(command: ApiCommand): Partial<NewSimUser> {
  const attribute = (name: string) => command.attributes.get(name);
  const disabled = attribute('disabled');
  return {
    name: attribute('name'),
    password: attribute('password'),
    profile: attribute('profile'),
    server: attribute('server'),
    limitUptimeSeconds: durationAttribute(command, 'limit-uptime'),
    limitBytesTotal: byteAttribute(command, 'limit-bytes-total'),
    macAddress: attribute('mac-address'),
    comment: attribute('comment'),
    disabled: disabled === undefined ? undefined : disabled === 'true' || disabled === 'yes',
  };
}

const NO_ROWS: CommandResult = { rows: [], isPrint: false };

/** Runs a command of a logged-in session; throws RouterOsTrap for a `!trap`. */
export function executeCommand(context: RouterContext, command: ApiCommand): CommandResult {
  const { state } = context;
  switch (command.path) {
    case '/system/identity/print':
      return print(command, [{ name: context.identity }]);
    case '/system/resource/print':
      return print(command, [
        {
          uptime: formatDuration(Math.floor((context.nowMs() - context.bootedAtMs) / 1000)),
          version: context.version,
          'build-time': '2025-01-01 00:00:00',
          'free-memory': '201326592',
          'total-memory': '268435456',
          cpu: 'ARMv7',
          'cpu-count': '4',
          'cpu-load': '3',
          'free-hdd-space': '100663296',
          'total-hdd-space': '134217728',
          'architecture-name': 'arm',
          'board-name': 'hAP ac^2',
          platform: 'MikroTik',
        },
      ]);
    case '/ip/hotspot/print':
      return print(command, state.serverRows());
    case '/ip/hotspot/profile/print':
      return print(command, state.serverProfileRows());
    case '/ip/hotspot/user/profile/print':
      return print(command, state.profileRows());
    case '/ip/hotspot/user/print':
      return print(command, state.userRows());
    case '/ip/hotspot/user/add': {
      const fields = userFields(command);
      const user = state.addUser({ ...fields, name: fields.name ?? '' });
      return { rows: [], ret: user.id, isPrint: false };
    }
    case '/ip/hotspot/user/set': {
      const ids = targets(command).map((target) => state.resolveUserId(target));
      for (const id of ids) state.updateUser(id, userFields(command));
      return NO_ROWS;
    }
    case '/ip/hotspot/user/remove': {
      const ids = targets(command).map((target) => state.resolveUserId(target));
      for (const id of ids) state.removeUser(id);
      return NO_ROWS;
    }
    case '/ip/hotspot/active/print':
      return print(command, state.activeRows());
    case '/ip/hotspot/active/remove': {
      state.settle();
      for (const id of targets(command)) state.endSession(id);
      return NO_ROWS;
    }
    case '/ip/hotspot/cookie/print':
      return print(command, state.cookieRows());
    case '/ip/hotspot/cookie/remove': {
      for (const id of targets(command)) state.removeCookie(id);
      return NO_ROWS;
    }
    default:
      throw new RouterOsTrap(command.path.startsWith('/') && command.path.endsWith('/print') ? 'no such command prefix' : 'no such command', 0);
  }
}
