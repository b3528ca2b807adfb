import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startAfricasTalkingSimulator, type AfricasTalkingSimulator, type AtSimulatorOptions } from '../src/index.js';

// The Africa's Talking simulator through plain fetch (the request our adapter makes) and, for the
// SMS send, through the official SDK with its module-level URL redirected (see sim/README.md).

const API_KEY = `atsk_${randomBytes(12).toString('hex')}`;
const PHONE_MTN = '+237670000001';
const PHONE_ORANGE = '+237690000002';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

interface Received {
  path: string;
  contentType: string;
  form: Record<string, string>;
}

/** Our callbacks stand-in: records form posts, answers with `answer` (default 200 "ok"). */
async function receiver(answer: (received: Received, response: ServerResponse) => void = (_, response) => response.end('ok')) {
  const received: Received[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => {
      const entry = { path: request.url ?? '/', contentType: request.headers['content-type'] ?? '', form: Object.fromEntries(new URLSearchParams(text)) };
      received.push(entry);
      answer(entry, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

async function simulator(options: AtSimulatorOptions = {}): Promise<AfricasTalkingSimulator> {
  const sim = await startAfricasTalkingSimulator(options);
  cleanups.push(() => sim.close());
  return sim;
}

/** The request our SMS adapter makes (no SDK): form body, apiKey header, JSON answer. */
function sendSms(sim: AfricasTalkingSimulator, form: Record<string, string>, apiKey = API_KEY, accept = 'application/json') {
  return fetch(sim.smsUrl, {
    method: 'POST',
    headers: { apiKey, accept, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
}

describe("Africa's Talking simulator: SMS", () => {
  it('accepts a send with 201 and SMSMessageData, one recipient entry per number', async () => {
    const sim = await simulator({ accounts: [{ username: 'tenant-a', apiKey: API_KEY }], autoDeliveryReport: false });
    const response = await sendSms(sim, { username: 'tenant-a', to: `${PHONE_MTN},${PHONE_ORANGE},0670000003`, message: 'Votre code WiFi : 7KQ2-91XA', from: 'RELAIS', enqueue: '1' });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { SMSMessageData: { Message: string; Recipients: Array<Record<string, unknown>> } };
    expect(body.SMSMessageData.Message).toBe('Sent to 2/3 Total Cost: XAF 50.0000');
    expect(body.SMSMessageData.Recipients).toEqual([
      { statusCode: 101, number: PHONE_MTN, status: 'Success', cost: 'XAF 25.0000', messageId: expect.stringMatching(/^ATXid_/) },
      { statusCode: 101, number: PHONE_ORANGE, status: 'Success', cost: 'XAF 25.0000', messageId: expect.stringMatching(/^ATXid_/) },
      { statusCode: 403, number: '0670000003', status: 'InvalidPhoneNumber', cost: '0', messageId: 'None' },
    ]);
    expect(sim.messages({ to: PHONE_MTN })).toEqual([expect.objectContaining({ username: 'tenant-a', from: 'RELAIS', enqueue: true, encoding: 'GSM-7', parts: 1, networkCode: '62401' })]);
    expect(sim.messages({ to: PHONE_ORANGE })[0]!.networkCode).toBe('62402');
  });

  it('answers XML unless JSON is asked for, 401 text for a bad key, 400 for a missing field', async () => {
    const sim = await simulator({ accounts: [{ username: 'tenant-a', apiKey: API_KEY }], autoDeliveryReport: false });
    const xml = await sendSms(sim, { username: 'tenant-a', to: PHONE_MTN, message: 'x' }, API_KEY, '*/*');
    expect(xml.headers.get('content-type')).toContain('xml');
    expect(await xml.text()).toContain('<SMSMessageData><Message>Sent to 1/1 Total Cost: XAF 25.0000</Message>');

    const badKey = await sendSms(sim, { username: 'tenant-a', to: PHONE_MTN, message: 'x' }, 'wrong');
    expect(badKey.status).toBe(401);
    expect(await badKey.text()).toBe('The supplied authentication is invalid');
    const otherUser = await sendSms(sim, { username: 'tenant-b', to: PHONE_MTN, message: 'x' });
    expect(otherUser.status).toBe(401);

    const missing = await sendSms(sim, { username: 'tenant-a', message: 'x' });
    expect(missing.status).toBe(400);
    expect(await missing.text()).toContain("'to'");
    expect(sim.messages()).toHaveLength(1);
  });

  it('counts parts as operators bill them (GSM-7 vs UCS-2) and refuses unknown sender ids and blacklisted numbers', async () => {
    const sim = await simulator({ accounts: [{ username: 'tenant-a', apiKey: API_KEY, senderIds: ['RELAIS'] }], autoDeliveryReport: false });
    await sendSms(sim, { username: 'tenant-a', to: PHONE_MTN, message: 'é'.repeat(161) });
    await sendSms(sim, { username: 'tenant-a', to: PHONE_MTN, message: 'Forfait prêt' });
    await sendSms(sim, { username: 'tenant-a', to: PHONE_MTN, message: '{}'.repeat(40) });
    expect(sim.messages().map(({ encoding, parts }) => [encoding, parts])).toEqual([
      ['GSM-7', 2],
      ['UCS-2', 1],
      ['GSM-7', 1],
    ]);

    const wrongSender = (await (await sendSms(sim, { username: 'tenant-a', to: PHONE_MTN, message: 'x', from: 'OTHER' })).json()) as { SMSMessageData: { Recipients: Array<{ status: string }> } };
    expect(wrongSender.SMSMessageData.Recipients[0]!.status).toBe('InvalidSenderId');
    sim.blacklist(PHONE_ORANGE);
    const blocked = (await (await sendSms(sim, { username: 'tenant-a', to: PHONE_ORANGE, message: 'x' })).json()) as { SMSMessageData: { Message: string; Recipients: Array<{ statusCode: number }> } };
    expect(blocked.SMSMessageData).toMatchObject({ Message: 'Sent to 0/1 Total Cost: 0', Recipients: [{ statusCode: 406 }] });
  });

  it('posts delivery reports to the account callback as forms, automatically or on demand', async () => {
    const callbacks = await receiver();
    const sim = await simulator({ accounts: [{ username: 'tenant-a', apiKey: API_KEY, deliveryReportsUrl: `${callbacks.origin}/webhooks/sms/ch1/delivery?secret=s1` }] });
    const sent = (await (await sendSms(sim, { username: 'tenant-a', to: PHONE_MTN, message: 'x' })).json()) as { SMSMessageData: { Recipients: Array<{ messageId: string }> } };
    const messageId = sent.SMSMessageData.Recipients[0]!.messageId;
    await sim.settled();
    expect(callbacks.received).toEqual([
      { path: '/webhooks/sms/ch1/delivery?secret=s1', contentType: 'application/x-www-form-urlencoded', form: { id: messageId, status: 'Success', phoneNumber: PHONE_MTN, networkCode: '62401', retryCount: '0' } },
    ]);

    await sim.deliveryReport(messageId, { status: 'Failed', failureReason: 'AbsentSubscriber' });
    expect(callbacks.received[1]!.form).toMatchObject({ id: messageId, status: 'Failed', failureReason: 'AbsentSubscriber' });
    expect(sim.messages()[0]!.deliveryStatus).toBe('Failed');
  });

  it('posts inbound SMS to the account that owns the short code', async () => {
    const callbacks = await receiver();
    const sim = await simulator({ accounts: [{ username: 'tenant-a', apiKey: API_KEY, shortCodes: ['8080'], inboundSmsUrl: `${callbacks.origin}/webhooks/sms/ch1/inbound?secret=s1` }] });
    const [delivery] = await sim.receiveSms({ from: PHONE_ORANGE, to: '8080', text: 'WIFI 1' });
    expect(delivery).toMatchObject({ kind: 'inbound-sms', outcome: 'sent', status: 200 });
    expect(callbacks.received[0]!.form).toEqual({
      from: PHONE_ORANGE,
      to: '8080',
      text: 'WIFI 1',
      date: expect.any(String),
      id: expect.any(String),
      linkId: expect.any(String),
      networkCode: '62402',
    });
  });

  it('injects API failures and callback faults', async () => {
    const callbacks = await receiver();
    const sim = await simulator({ accounts: [{ username: 'tenant-a', apiKey: API_KEY, deliveryReportsUrl: `${callbacks.origin}/dlr` }], faults: { failNext: { status: 503, body: 'Service Unavailable' } } });
    const failed = await sendSms(sim, { username: 'tenant-a', to: PHONE_MTN, message: 'x' });
    expect([failed.status, await failed.text()]).toEqual([503, 'Service Unavailable']);
    expect(sim.messages()).toEqual([]);

    sim.setFaults({ duplicateCallbacks: 2 });
    await sendSms(sim, { username: 'tenant-a', to: PHONE_MTN, message: 'x' });
    await sim.settled();
    expect(callbacks.received).toHaveLength(2);
    expect(callbacks.received[0]!.form.id).toBe(callbacks.received[1]!.form.id);

    sim.setFaults({ duplicateCallbacks: 1, dropCallbacks: true });
    await sendSms(sim, { username: 'tenant-a', to: PHONE_MTN, message: 'x' });
    await sim.settled();
    expect(callbacks.received).toHaveLength(2);
    expect(sim.callbacks().at(-1)!.outcome).toBe('dropped');
  });
});

describe("Africa's Talking simulator: the official SDK (africastalking 0.8.3)", () => {
  // The SDK is CommonJS and keeps its URLs in module-level exports of lib/common.js.
  const require = createRequire(import.meta.url);
  const common = require('africastalking/lib/common.js') as { SMS_URL: string };
  const AfricasTalking = require('africastalking') as (options: { username: string; apiKey: string }) => { SMS: { send(params: { to: string | string[]; message: string; from?: string }): Promise<unknown> } };

  it('sends through the simulator once its module-level SMS_URL is redirected (process-wide: tests only)', async () => {
    const sim = await simulator({ accounts: [{ username: 'tenant-a', apiKey: API_KEY }], autoDeliveryReport: false });
    const original = common.SMS_URL;
    common.SMS_URL = sim.smsUrl;
    try {
      const answer = await AfricasTalking({ username: 'tenant-a', apiKey: API_KEY }).SMS.send({ to: [PHONE_MTN], message: 'Bonjour', from: 'RELAIS' });
      expect(answer).toMatchObject({ SMSMessageData: { Message: 'Sent to 1/1 Total Cost: XAF 25.0000', Recipients: [{ statusCode: 101, number: PHONE_MTN }] } });
      expect(sim.messages()[0]).toMatchObject({ message: 'Bonjour', from: 'RELAIS' });
    } finally {
      common.SMS_URL = original;
    }
  });

  it('switches every client in the process to the sandbox once one tenant uses username "sandbox", for good', () => {
    AfricasTalking({ username: 'tenant-live', apiKey: 'k1' });
    expect(common.SMS_URL).toBe('https://api.africastalking.com/version1/messaging');
    AfricasTalking({ username: 'sandbox', apiKey: 'k2' });
    expect(common.SMS_URL).toBe('https://api.sandbox.africastalking.com/version1/messaging');
    // A live tenant's client created afterwards (or before: the URL is read at send time) now targets the sandbox.
    AfricasTalking({ username: 'tenant-live', apiKey: 'k1' });
    expect(common.SMS_URL).toBe('https://api.sandbox.africastalking.com/version1/messaging');
  });
});

describe("Africa's Talking simulator: USSD", () => {
  /** A tiny USSD menu standing in for our /webhooks/ussd/:channelId route. */
  function ussdMenu(received: Received, response: ServerResponse): void {
    const text = received.form.text ?? '';
    const screens: Record<string, string> = {
      '': 'CON Bienvenue chez Relais\n1. Acheter du WiFi\n2. Mon WiFi',
      '1': 'CON Choisissez un forfait\n1. 1 jour - 500 FCFA',
      '1*1': 'END Confirmez le paiement avec *126#',
      '2': `CON ${'x'.repeat(200)}`,
      '2*1': 'END Reçu',
    };
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end(screens[text] ?? 'oops');
  }

  it('plays a session: dial, replies joined with *, CON then END', async () => {
    const callback = await receiver(ussdMenu);
    const sim = await simulator({ ussdServices: [{ serviceCode: '*384*123#', callbackUrl: `${callback.origin}/webhooks/ussd/ch1` }] });
    const session = await sim.ussd.dial('*384*123#', PHONE_MTN);
    expect(session.screen).toMatchObject({ kind: 'CON', text: 'Bienvenue chez Relais\n1. Acheter du WiFi\n2. Mon WiFi', problems: [] });
    expect(await session.reply('1')).toMatchObject({ kind: 'CON' });
    const last = await session.reply('1');
    expect(last).toMatchObject({ kind: 'END', text: 'Confirmez le paiement avec *126#', problems: [] });
    expect(session.ended).toBe(true);
    await expect(session.reply('1')).rejects.toThrow(/is over/);

    expect(callback.received.map((entry) => entry.form)).toEqual(
      ['', '1', '1*1'].map((text) => ({ sessionId: session.sessionId, serviceCode: '*384*123#', phoneNumber: PHONE_MTN, networkCode: '62401', text })),
    );
    expect(callback.received[0]!.contentType).toBe('application/x-www-form-urlencoded');
  });

  it('reports screens too long or not ASCII, and answers that break the protocol', async () => {
    const callback = await receiver(ussdMenu);
    const sim = await simulator();
    const session = await sim.ussd.dial('*384*123#', PHONE_ORANGE, { callbackUrl: `${callback.origin}/ussd` });
    const long = await session.reply('2');
    expect(long.kind).toBe('CON');
    expect(long.problems).toEqual(['screen is 200 characters, more than 182']);
    const accented = await session.reply('1');
    expect(accented.problems).toEqual(['non-ASCII characters: "ç"']);

    const broken = await sim.ussd.dial('*384*123#', PHONE_ORANGE, { callbackUrl: `${callback.origin}/ussd` });
    await broken.reply('9');
    expect(broken.screen).toMatchObject({ kind: 'invalid', raw: 'oops' });
    expect(broken.screen.problems).toContain('answer does not start with "CON " or "END "');
    expect(broken.ended).toBe(true);
  });
});
