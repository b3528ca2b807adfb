/**
 * RouterOS script exports of hotspot users:
 *
 *   /ip hotspot user
 *   add comment="vc-123-06.30.21-" limit-uptime=1d name=abc password=abc profile=1jour
 *
 * Long lines are wrapped with a trailing `\` and the continuation indented (possibly in the
 * middle of a value); v7 also writes `/ip/hotspot/user/add name=...` on one line. A full
 * `/export` has other sections (profiles!): only `add` lines of `/ip hotspot user` are users.
 */
import type { RawVoucherFields } from './voucher-fields.js';

const USER_SECTION = 'ip hotspot user';
const COMMANDS = new Set(['add', 'set', 'remove', 'print', 'export', 'enable', 'disable', 'comment', 'find', 'edit', 'unset', 'reset-counters']);
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', _: ' ', a: '\x07', b: '\b', f: '\f', v: '\v', '"': '"', '\\': '\\', $: '$', '?': '?' };

export type ScriptLine =
  | { kind: 'section'; section: string }
  | { kind: 'command'; section: string | undefined; command: string; attributes: Map<string, string> }
  | { kind: 'invalid'; section: string | undefined; command: string; reason: string }
  | { kind: 'other' };

/** Splits `name="a b" profile=x` into attributes; RouterOS escapes in quoted values are decoded. */
function parseAttributes(text: string): Map<string, string> | string {
  const attributes = new Map<string, string>();
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i += 1;
    if (i >= text.length) break;
    let key = '';
    while (i < text.length && text[i] !== '=' && !/\s/.test(text[i]!)) key += text[i++];
    if (text[i] !== '=') {
      // A bare word (`[`, `find`, a flag): not an attribute we read.
      if (key.startsWith('[')) return attributes;
      continue;
    }
    i += 1;
    let value = '';
    if (text[i] === '"') {
      i += 1;
      let closed = false;
      while (i < text.length) {
        const char = text[i]!;
        if (char === '"') {
          closed = true;
          i += 1;
          break;
        }
        if (char === '\\' && i + 1 < text.length) {
          const next = text[i + 1]!;
          const hex = /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3)) ? text.slice(i + 1, i + 3) : undefined;
          if (hex) {
            value += String.fromCharCode(parseInt(hex, 16));
            i += 3;
          } else {
            value += ESCAPES[next] ?? next;
            i += 2;
          }
          continue;
        }
        value += char;
        i += 1;
      }
      if (!closed) return `unclosed quote after ${key}=`;
    } else {
      while (i < text.length && !/\s/.test(text[i]!)) value += text[i++];
    }
    attributes.set(key, value);
  }
  return attributes;
}

/** Reads one logical line (continuations already joined) in the context of the current section. */
export function parseScriptLine(line: string, section: string | undefined): ScriptLine {
  let rest = line.trim();
  if (rest === '' || rest.startsWith('#')) return { kind: 'other' };
  let currentSection = section;
  if (rest.startsWith('/')) {
    // `/ip hotspot user`, `/ip hotspot user add ...`, `/ip/hotspot/user/add ...`: path words up
    // to the command (or the end).
    const words: string[] = [];
    let position = 1;
    for (;;) {
      const word = /^([a-z0-9-]+)(?![a-z0-9=-])[\s/]*/i.exec(rest.slice(position));
      if (!word || COMMANDS.has(word[1]!.toLowerCase())) break;
      words.push(word[1]!.toLowerCase());
      position += word[0].length;
    }
    currentSection = words.join(' ');
    rest = rest.slice(position).trim();
    if (rest === '') return { kind: 'section', section: currentSection };
  }
  const command = /^([a-z-]+)(?:\s+|$)/i.exec(rest);
  if (!command) return { kind: 'other' };
  const attributes = parseAttributes(rest.slice(command[0].length));
  if (typeof attributes === 'string') return { kind: 'invalid', section: currentSection, command: command[1]!.toLowerCase(), reason: attributes };
  return { kind: 'command', section: currentSection, command: command[1]!.toLowerCase(), attributes };
}

/** True when `section` (undefined: a file of bare `add` lines) holds hotspot users. */
export function isUserSection(section: string | undefined): boolean {
  return section === undefined || section === USER_SECTION;
}

export function scriptUserFields(attributes: Map<string, string>): RawVoucherFields & { disabled: boolean } {
  return {
    username: attributes.get('name') ?? '',
    password: attributes.get('password'),
    profile: attributes.get('profile') ?? '',
    timeLimit: attributes.get('limit-uptime') ?? '',
    dataLimit: attributes.get('limit-bytes-total') ?? '',
    comment: attributes.get('comment') ?? '',
    disabled: ['yes', 'true'].includes((attributes.get('disabled') ?? '').toLowerCase()),
  };
}
