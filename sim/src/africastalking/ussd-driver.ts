/** A USSD session as a phone and the operator gateway see it: dial, then reply screen by screen. */

/** USSD screens above about 182 characters are cut or refused by handsets and gateways. */
export const USSD_MAX_SCREEN_CHARS = 182;

export interface UssdScreen {
  /** CON: the session goes on; END: it is over; invalid: the answer broke the protocol (session over). */
  kind: 'CON' | 'END' | 'invalid';
  /** The screen shown to the user, without the CON/END prefix. */
  text: string;
  /** The body exactly as our callback answered. */
  raw: string;
  status: number;
  contentType: string;
  /** What a real gateway or handset would choke on: too long, non-ASCII, bad prefix, bad status. */
  problems: string[];
}

export interface UssdPost {
  sessionId: string;
  serviceCode: string;
  phoneNumber: string;
  networkCode: string;
  text: string;
}

export interface UssdSession {
  sessionId: string;
  serviceCode: string;
  phoneNumber: string;
  /** Everything the user typed, in order (the callback gets them joined with "*"). */
  inputs: string[];
  screens: UssdScreen[];
  /** The screen on display now. */
  readonly screen: UssdScreen;
  readonly ended: boolean;
  /** The user types `text` and sends: posts the joined inputs, resolves with the next screen. */
  reply(text: string): Promise<UssdScreen>;
}

const REQUEST_TIMEOUT_MS = 10_000;

export function screenProblems(screen: Omit<UssdScreen, 'problems'>): string[] {
  const problems: string[] = [];
  if (screen.status !== 200) problems.push(`HTTP ${screen.status}`);
  if (screen.kind === 'invalid') problems.push('answer does not start with "CON " or "END "');
  if (!/^text\/plain\b/i.test(screen.contentType)) problems.push(`content-type "${screen.contentType}" is not text/plain`);
  const length = [...screen.text].length;
  if (length > USSD_MAX_SCREEN_CHARS) problems.push(`screen is ${length} characters, more than ${USSD_MAX_SCREEN_CHARS}`);
  const nonAscii = [...new Set([...screen.text].filter((character) => character.charCodeAt(0) > 0x7e || (character < ' ' && character !== '\n')))];
  if (nonAscii.length > 0) problems.push(`non-ASCII characters: ${nonAscii.map((character) => JSON.stringify(character)).join(' ')}`);
  return problems;
}

export async function postUssd(url: string, post: UssdPost, signal: AbortSignal): Promise<UssdScreen> {
  let status = 0;
  let raw = '';
  let contentType = '';
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/plain' },
      body: new URLSearchParams({ ...post }).toString(),
      signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
    });
    status = response.status;
    contentType = response.headers.get('content-type') ?? '';
    raw = await response.text();
  } catch (error) {
    raw = '';
    const screen = { kind: 'invalid' as const, text: '', raw, status, contentType };
    return { ...screen, problems: [`request failed: ${(error as Error).message}`, ...screenProblems(screen).filter((problem) => !problem.startsWith('HTTP'))] };
  }
  const kind = raw.startsWith('CON ') ? 'CON' : raw.startsWith('END ') ? 'END' : 'invalid';
  const screen = { kind, text: kind === 'invalid' ? raw : raw.slice(4), raw, status, contentType } as const;
  // A non-200 answer is an error page to the gateway, whatever its text.
  const effective = status === 200 ? screen : { ...screen, kind: 'invalid' as const };
  return { ...effective, problems: screenProblems(effective) };
}
