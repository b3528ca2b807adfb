import { createHmac, timingSafeEqual, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startWhatsAppCloudSimulator, type WaEvent, type WaSimulatorOptions, type WhatsAppCloudSimulator } from '../src/index.js';

// The WhatsApp Cloud simulator through plain fetch (what our adapter sends to graph.facebook.com)
// and a webhook receiver that checks X-Hub-Signature-256 on the raw bytes with node:crypto.

const NUMBER_ID = '106540352242922';
const OTHER_NUMBER_ID = '106540352242999';
const TOKEN = 'EAAsim-token-tenant-a';
const APP_SECRET = randomBytes(16).toString('hex');
const CUSTOMER = '237670000001';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

interface ReceivedEvent {
  raw: Buffer;
  signature: string;
  verified: boolean;
  event: WaEvent;
}

function verify(raw: Buffer, header: string, secret: string): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`);
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Our webhook stand-in: verification GET, and signed POSTs (answers 401 on a bad signature, or `failFirst` times 500). */
async function webhook(options: { verifyToken?: string; failFirst?: number } = {}) {
  const received: ReceivedEvent[] = [];
  let toFail = options.failFirst ?? 0;
  const server = createServer((request: IncomingMessage, response) => {
    const url = new URL(request.url ?? '/', 'http://receiver');
    if (request.method === 'GET') {
      const ok = url.searchParams.get('hub.mode') === 'subscribe' && url.searchParams.get('hub.verify_token') === (options.verifyToken ?? 'verify-me');
      response.writeHead(ok ? 200 : 403, { 'content-type': 'text/plain' });
      response.end(ok ? url.searchParams.get('hub.challenge') : 'forbidden');
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      const signature = String(request.headers['x-hub-signature-256'] ?? '');
      const verified = verify(raw, signature, APP_SECRET);
      received.push({ raw, signature, verified, event: JSON.parse(raw.toString('utf8')) as WaEvent });
      if (toFail > 0) {
        toFail -= 1;
        response.statusCode = 500;
      } else response.statusCode = verified ? 200 : 401;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/whatsapp/ch1`, received };
}

async function simulator(webhookUrl: string | undefined, options: WaSimulatorOptions = {}): Promise<WhatsAppCloudSimulator> {
  const sim = await startWhatsAppCloudSimulator({
    phoneNumbers: [
      { id: NUMBER_ID, displayPhoneNumber: '237690000000', accessToken: TOKEN, appSecret: APP_SECRET, webhookUrl, verifyToken: 'verify-me' },
      { id: OTHER_NUMBER_ID, displayPhoneNumber: '237690000099', accessToken: 'EAAsim-token-tenant-b', appSecret: 'other-secret' },
    ],
    ...options,
  });
  cleanups.push(() => sim.close());
  return sim;
}

async function graph(sim: WhatsAppCloudSimulator, path: string, body: unknown, token = TOKEN) {
  const response = await fetch(`${sim.url}/v21.0/${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const text = (to: string, body: string) => ({ messaging_product: 'whatsapp', recipient_type: 'individual', to, type: 'text', text: { body } });
const PNG_1x1 = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d49444154789c6360000002000005000157f1c5d20000000049454e44ae426082', 'hex');

describe('WhatsApp Cloud simulator', () => {
  it('answers the verification handshake through the helper', async () => {
    const hook = await webhook();
    const sim = await simulator(hook.url);
    const good = await sim.verifyWebhook(NUMBER_ID);
    expect(good).toMatchObject({ status: 200, verified: true });
    expect(good.body).toBe(good.challenge);
    expect(await sim.verifyWebhook(NUMBER_ID, { verifyToken: 'wrong' })).toMatchObject({ status: 403, verified: false });
  });

  it('posts a customer text as a signed event, escaped as Meta writes it, and the reply within 24 h is accepted', async () => {
    const hook = await webhook();
    const sim = await simulator(hook.url);
    await sim.customerText(NUMBER_ID, { from: CUSTOMER, name: 'Awa Ngono', text: 'Bonjour, je veux du WiFi à 500 F' });
    const [received] = hook.received;
    expect(received!.verified).toBe(true);
    expect(received!.raw.toString('latin1')).toContain('\\u00e0 500 F'); // "à" arrives as \u00e0
    // Re-serialising the parsed body changes the bytes: only the raw body verifies.
    expect(verify(Buffer.from(JSON.stringify(received!.event)), received!.signature, APP_SECRET)).toBe(false);
    expect(received!.event).toEqual({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: expect.any(String),
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '237690000000', phone_number_id: NUMBER_ID },
                contacts: [{ profile: { name: 'Awa Ngono' }, wa_id: CUSTOMER }],
                messages: [{ from: CUSTOMER, id: expect.stringMatching(/^wamid\./), timestamp: expect.stringMatching(/^\d+$/), type: 'text', text: { body: 'Bonjour, je veux du WiFi à 500 F' } }],
              },
            },
          ],
        },
      ],
    });

    const sent = await graph(sim, `${NUMBER_ID}/messages`, text(`+${CUSTOMER}`, 'Voici nos forfaits'));
    expect(sent).toEqual({ status: 200, body: { messaging_product: 'whatsapp', contacts: [{ input: `+${CUSTOMER}`, wa_id: CUSTOMER }], messages: [{ id: expect.stringMatching(/^wamid\./) }] } });
    await sim.settled();
    const statuses = hook.received.slice(1).map((entry) => entry.event.entry[0]!.changes[0]!.value.statuses![0]!);
    expect(statuses.map((status) => [status.id, status.status, status.recipient_id])).toEqual([
      [sent.body.messages[0].id, 'sent', CUSTOMER],
      [sent.body.messages[0].id, 'delivered', CUSTOMER],
    ]);
    expect(statuses[0]).toMatchObject({ conversation: { origin: { type: 'service' } }, pricing: { category: 'service' } });
    expect(sim.sent({ to: CUSTOMER })).toEqual([expect.objectContaining({ type: 'text', text: 'Voici nos forfaits', statuses: ['sent', 'delivered'] })]);
  });

  it('carries interactive buttons and lists, and the customer picks one (button_reply / list_reply with context)', async () => {
    const hook = await webhook();
    const sim = await simulator(hook.url);
    await sim.customerText(NUMBER_ID, { from: CUSTOMER, text: 'menu' });
    const buttons = await graph(sim, `${NUMBER_ID}/messages`, {
      messaging_product: 'whatsapp',
      to: CUSTOMER,
      type: 'interactive',
      interactive: { type: 'button', body: { text: 'Que voulez-vous faire ?' }, action: { buttons: [{ type: 'reply', reply: { id: 'buy', title: 'Acheter du WiFi' } }, { type: 'reply', reply: { id: 'mine', title: 'Mon WiFi' } }] } },
    });
    expect(buttons.status).toBe(200);
    await sim.customerChoice(NUMBER_ID, { from: CUSTOMER, choiceId: 'buy' });
    const buttonReply = hook.received.map((entry) => entry.event.entry[0]!.changes[0]!.value.messages?.[0]).filter(Boolean).at(-1)!;
    expect(buttonReply).toMatchObject({ type: 'interactive', context: { from: '237690000000', id: buttons.body.messages[0].id }, interactive: { type: 'button_reply', button_reply: { id: 'buy', title: 'Acheter du WiFi' } } });

    const list = await graph(sim, `${NUMBER_ID}/messages`, {
      messaging_product: 'whatsapp',
      to: CUSTOMER,
      type: 'interactive',
      interactive: { type: 'list', body: { text: 'Forfaits' }, action: { button: 'Voir', sections: [{ title: 'WiFi', rows: [{ id: 'pkg-1d', title: '1 jour', description: '500 FCFA' }] }] } },
    });
    expect(list.status).toBe(200);
    await sim.customerChoice(NUMBER_ID, { from: CUSTOMER, choiceId: 'pkg-1d' });
    const listReply = hook.received.map((entry) => entry.event.entry[0]!.changes[0]!.value.messages?.[0]).filter(Boolean).at(-1)!;
    expect(listReply.interactive).toEqual({ type: 'list_reply', list_reply: { id: 'pkg-1d', title: '1 jour', description: '500 FCFA' } });

    const tooMany = await graph(sim, `${NUMBER_ID}/messages`, {
      messaging_product: 'whatsapp',
      to: CUSTOMER,
      type: 'interactive',
      interactive: { type: 'button', body: { text: 'x' }, action: { buttons: ['a', 'b', 'c', 'd'].map((id) => ({ type: 'reply', reply: { id, title: id } })) } },
    });
    expect(tooMany).toMatchObject({ status: 400, body: { error: { code: 131009, error_data: { details: 'Number of buttons invalid. Min: 1, Max: 3' } } } });
    const longTitle = await graph(sim, `${NUMBER_ID}/messages`, {
      messaging_product: 'whatsapp',
      to: CUSTOMER,
      type: 'interactive',
      interactive: { type: 'button', body: { text: 'x' }, action: { buttons: [{ type: 'reply', reply: { id: 'a', title: 'Acheter du WiFi maintenant' } }] } },
    });
    expect(longTitle.body.error.error_data.details).toBe('Button title length invalid. Min length: 1, Max length: 20');
  });

  it('uploads media (multipart) and sends the image by id or by link', async () => {
    const hook = await webhook();
    const sim = await simulator(hook.url);
    await sim.customerText(NUMBER_ID, { from: CUSTOMER, text: 'code' });
    const form = new FormData();
    form.set('messaging_product', 'whatsapp');
    form.set('type', 'image/png');
    form.set('file', new Blob([PNG_1x1], { type: 'image/png' }), 'voucher-qr.png');
    const upload = await fetch(`${sim.url}/v21.0/${NUMBER_ID}/media`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: form });
    const { id } = (await upload.json()) as { id: string };
    expect(upload.status).toBe(200);
    expect(sim.media(id)!.bytes.equals(PNG_1x1)).toBe(true);

    expect((await graph(sim, `${NUMBER_ID}/messages`, { messaging_product: 'whatsapp', to: CUSTOMER, type: 'image', image: { id, caption: 'Votre code : 7KQ2' } })).status).toBe(200);
    expect((await graph(sim, `${NUMBER_ID}/messages`, { messaging_product: 'whatsapp', to: CUSTOMER, type: 'image', image: { link: 'https://relais.example/qr/7KQ2.png' } })).status).toBe(200);
    const [byId, byLink] = sim.sent({ to: CUSTOMER });
    expect(byId!.image).toMatchObject({ id, caption: 'Votre code : 7KQ2', mimeType: 'image/png' });
    expect(byId!.image!.bytes!.equals(PNG_1x1)).toBe(true);
    expect(byLink!.image).toMatchObject({ link: 'https://relais.example/qr/7KQ2.png' });

    expect((await graph(sim, `${NUMBER_ID}/messages`, { messaging_product: 'whatsapp', to: CUSTOMER, type: 'image', image: { id: '999' } })).status).toBe(400);
    const notImage = new FormData();
    notImage.set('messaging_product', 'whatsapp');
    notImage.set('file', new Blob([Buffer.from('hello')], { type: 'image/png' }), 'x.png');
    expect((await fetch(`${sim.url}/v21.0/${NUMBER_ID}/media`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: notImage })).status).toBe(400);
  });

  it('checks the bearer token, and a token only reaches its own number', async () => {
    const sim = await simulator(undefined);
    const bad = await graph(sim, `${NUMBER_ID}/messages`, text(CUSTOMER, 'x'), 'nope');
    expect(bad).toMatchObject({ status: 401, body: { error: { code: 190, type: 'OAuthException', fbtrace_id: expect.any(String) } } });
    const crossTenant = await graph(sim, `${OTHER_NUMBER_ID}/messages`, text(CUSTOMER, 'x'));
    expect(crossTenant).toMatchObject({ status: 400, body: { error: { code: 100, error_subcode: 33 } } });
    const missing = await graph(sim, `${NUMBER_ID}/messages`, { messaging_product: 'whatsapp', to: CUSTOMER, type: 'text' });
    expect(missing.body.error.message).toBe("(#100) The parameter text['body'] is required.");
  });

  it("applies the 24-hour window: a failed status with 131047 by default, or a 400 at once when configured", async () => {
    const hook = await webhook();
    let now = Date.UTC(2025, 0, 1, 8);
    const sim = await simulator(hook.url, { now: () => now });
    await sim.customerText(NUMBER_ID, { from: CUSTOMER, text: 'bonjour' });
    now += 24 * 60 * 60 * 1000 + 1;
    const late = await graph(sim, `${NUMBER_ID}/messages`, text(CUSTOMER, 'Toujours là ?'));
    expect(late.status).toBe(200);
    await sim.settled();
    const failed = hook.received.at(-1)!.event.entry[0]!.changes[0]!.value.statuses![0]!;
    expect(failed).toMatchObject({ id: late.body.messages[0].id, status: 'failed', errors: [{ code: 131047, title: 'Re-engagement message' }] });
    // Templates are allowed outside the window.
    const template = await graph(sim, `${NUMBER_ID}/messages`, { messaging_product: 'whatsapp', to: CUSTOMER, type: 'template', template: { name: 'voucher_ready', language: { code: 'fr' } } });
    expect(template.status).toBe(200);

    const strict = await simulator(hook.url, { windowRule: 'reject' });
    const rejected = await graph(strict, `${NUMBER_ID}/messages`, text('237699999999', 'hello'));
    expect(rejected).toMatchObject({ status: 400, body: { error: { code: 131047, message: '(#131047) Re-engagement message' } } });
  });

  it('retries an event the webhook rejected, and injects failures, duplicates and bad signatures', async () => {
    const hook = await webhook({ failFirst: 1 });
    const sim = await simulator(hook.url, { webhookRetryMs: 5, faults: { failNext: { status: 503, code: 131000, pathEndsWith: '/messages' } } });
    await sim.customerText(NUMBER_ID, { from: CUSTOMER, text: 'un' });
    expect(sim.deliveries(NUMBER_ID).map((delivery) => delivery.outcome)).toEqual(['rejected', 'accepted']);

    const injected = await graph(sim, `${NUMBER_ID}/messages`, text(CUSTOMER, 'x'));
    expect(injected).toMatchObject({ status: 503, body: { error: { code: 131000 } } });

    sim.setFaults({ duplicateEvents: 2 });
    await sim.customerText(NUMBER_ID, { from: CUSTOMER, text: 'deux' });
    const copies = hook.received.filter((entry) => entry.event.entry[0]!.changes[0]!.value.messages?.[0]?.text?.body === 'deux');
    expect(copies).toHaveLength(2);
    expect(copies[0]!.event.entry[0]!.changes[0]!.value.messages![0]!.id).toBe(copies[1]!.event.entry[0]!.changes[0]!.value.messages![0]!.id);

    sim.setFaults({ duplicateEvents: 1, signWith: 'forged-secret' });
    const forged = sim.customerText(NUMBER_ID, { from: CUSTOMER, text: 'trois' });
    // The receiver answers 401 to a bad signature and the simulator keeps retrying until the fault is lifted.
    await new Promise<void>((resolve) => {
      const poll = () => (sim.deliveries(NUMBER_ID).some((delivery) => delivery.status === 401) ? resolve() : setTimeout(poll, 5));
      poll();
    });
    sim.setFaults({ signWith: null });
    await forged;
    expect(hook.received.filter((entry) => !entry.verified).length).toBeGreaterThan(0);
    expect(hook.received.at(-1)!.verified).toBe(true);
  });
});
