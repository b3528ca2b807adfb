import { randomBytes } from 'node:crypto';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox, type SendRequest } from '@relais/core';
import { createWhatsAppCloudSender, createWhatsAppCloudSenders, sealWhatsAppCloudSecrets, WHATSAPP_CLOUD_CAPABILITIES } from '@relais/bots/whatsapp-cloud';
import { startWhatsAppCloudSimulator, type WhatsAppCloudSimulator } from '@relais/sim';
import { sendErrorOf } from '../support/app-error-of.js';

const TENANT_ID = '3b0f6a55-8e0a-4c7e-9a0b-2d7f1c9e4a11';
const ACCOUNT_ID = '7c2d9e41-0b6a-4f3e-8d21-5a9c0e7b3f22';
const PHONE_NUMBER_ID = '105550001111';
const ACCESS_TOKEN = `EAAG${'x7Qz'.repeat(30)}`;
const CUSTOMER = '237670000301';

function png(): Buffer {
  const image = new PNG({ width: 4, height: 4 });
  image.data.fill(0x40);
  return PNG.sync.write(image);
}


describe('WhatsApp Cloud sender against the Graph API simulator', () => {
  let sim: WhatsAppCloudSimulator;
  let sender: ReturnType<typeof createWhatsAppCloudSender>;
  const request = (body: SendRequest['body'], extra: Partial<SendRequest> = {}): SendRequest => ({
    tenantId: TENANT_ID,
    channelAccountId: ACCOUNT_ID,
    recipient: CUSTOMER,
    body,
    messageId: 'm-1',
    ...extra,
  });
  const sentSince = (before: number) => sim.sent({ phoneNumberId: PHONE_NUMBER_ID, to: CUSTOMER }).slice(before);
  const count = () => sim.sent({ phoneNumberId: PHONE_NUMBER_ID, to: CUSTOMER }).length;

  beforeAll(async () => {
    // No webhook: statuses are logged by the simulator, not posted. The customer wrote: the window is open.
    sim = await startWhatsAppCloudSimulator({ phoneNumbers: [{ id: PHONE_NUMBER_ID, displayPhoneNumber: '237699000001', accessToken: ACCESS_TOKEN, appSecret: 'app-secret' }] });
    await sim.customerText(PHONE_NUMBER_ID, { from: CUSTOMER, text: 'bonjour' });
    sender = createWhatsAppCloudSender({ phoneNumberId: PHONE_NUMBER_ID, accessToken: ACCESS_TOKEN, baseUrl: sim.url });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('declares what WhatsApp shows and how fast a number may send', () => {
    expect(sender.capabilities).toEqual(WHATSAPP_CLOUD_CAPABILITIES);
    expect(sender.capabilities).toMatchObject({ buttons: true, maxButtons: 10, images: true, maxTextLength: 4096, plainTextOnly: false });
    expect(sender.limits).toMatchObject({ perAccountPerSecond: 80 });
    expect(sender.limits.jitterMs).toBeGreaterThan(0);
  });

  it('sends text, up to 3 choices as reply buttons and 4 to 10 as a list, titles cut to fit', async () => {
    const before = count();
    const text = await sender.send(request({ text: 'Bonjour Amélie' }));
    await sender.send(request({ text: 'Langue ?', choices: [{ id: 'lang:fr', label: 'Français' }, { id: 'lang:en', label: 'English' }, { id: 'menu', label: 'Un libellé bien trop long pour un bouton' }] }));
    const sixChoices = ['Acheter du WiFi', 'Mon WiFi', 'Ouvrir un ticket', 'Mes tickets', 'Parler à un agent', '1 semaine illimitée - 10 000 FCFA'].map((label, index) => ({ id: `c${index}`, label }));
    await sender.send(request({ text: 'Que voulez-vous faire ?', choices: sixChoices }));

    const sent = sentSince(before);
    expect(sent.map((message) => message.type)).toEqual(['text', 'interactive', 'interactive']);
    expect(text.providerMessageId).toBe(sent[0]!.id);
    expect(sent[0]!.text).toBe('Bonjour Amélie');
    const buttons = sent[1]!.interactive!;
    expect(buttons.type).toBe('button');
    if (buttons.type !== 'button') throw new Error('buttons expected');
    expect(buttons.body.text).toBe('Langue ?');
    expect(buttons.action.buttons.map((button) => [button.reply.id, button.reply.title])).toEqual([
      ['lang:fr', 'Français'],
      ['lang:en', 'English'],
      ['menu', 'Un libellé bien tro…'],
    ]);
    const list = sent[2]!.interactive!;
    if (list.type !== 'list') throw new Error('list expected');
    const rows = list.action.sections.flatMap((section) => section.rows);
    expect(rows.map((row) => row.id)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5']);
    expect(rows[0]).toEqual({ id: 'c0', title: 'Acheter du WiFi' });
    // A row title over 24 characters is cut; the whole label goes underneath.
    expect(rows[5]).toEqual({ id: 'c5', title: '1 semaine illimitée - 1…', description: '1 semaine illimitée - 10 000 FCFA' });
  });

  it('writes more than 10 choices as a numbered text', async () => {
    const before = count();
    await sender.send(request({ text: 'Forfaits', choices: Array.from({ length: 11 }, (_, index) => ({ id: `p${index}`, label: `Forfait ${index + 1}` })) }));
    const [message] = sentSince(before);
    expect(message!.type).toBe('text');
    expect(message!.text).toContain('Forfaits\n1. Forfait 1\n2. Forfait 2');
    expect(message!.text).toContain('11. Forfait 11');
  });

  it('uploads an image to /media and sends it with the text as caption', async () => {
    const before = count();
    const result = await sender.send(request({ text: 'Votre code WiFi : ab12cd', image: { fileKey: 'qr/ab12cd.png', mimeType: 'image/png', alt: 'Code : ab12cd' } }, { imageBytes: png() }));
    const sent = sentSince(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.type).toBe('image');
    expect(sent[0]!.image!.caption).toBe('Votre code WiFi : ab12cd');
    expect(sent[0]!.image!.bytes!.equals(png())).toBe(true);
    expect(sim.media(sent[0]!.image!.id!)!.mimeType).toBe('image/png');
    expect(result.providerMessageId).toBe(sent[0]!.id);
    expect(sim.requests().slice(-2).map((entry) => entry.path)).toEqual([`/v21.0/${PHONE_NUMBER_ID}/media`, `/v21.0/${PHONE_NUMBER_ID}/messages`]);
  });

  it('sends an image with choices as the image, then the text with its buttons', async () => {
    const before = count();
    await sender.send(request({ text: 'Code prêt', image: { fileKey: 'qr/x.png', mimeType: 'image/png', alt: 'Code : x' }, choices: [{ id: 'menu', label: 'Menu' }] }, { imageBytes: png() }));
    const sent = sentSince(before);
    expect(sent.map((message) => message.type)).toEqual(['image', 'interactive']);
    expect(sent[0]!.image!.caption).toBe('Code : x');
    expect(sent[1]!.interactive!.body.text).toBe('Code prêt');
  });

  it('maps Graph errors: bad recipient, 24 h window and bad token are permanent; rate limits and 5xx are retried', async () => {
    const recipient = await sendErrorOf(sender.send(request({ text: 'x' }, { recipient: '12' })));
    expect(recipient).toMatchObject({ permanent: true });
    expect(recipient.message).toContain('131026');

    sim.setFaults({ failNext: { status: 400, code: 130429, message: '(#130429) Rate limit hit', times: 1 } });
    const rateLimited = await sendErrorOf(sender.send(request({ text: 'x' })));
    expect(rateLimited).toMatchObject({ permanent: false });
    expect(rateLimited.message).toContain('130429');

    sim.setFaults({ failNext: { status: 500, code: 131000, times: 1 } });
    expect(await sendErrorOf(sender.send(request({ text: 'x' })))).toMatchObject({ permanent: false });

    sim.setFaults({ failNext: { status: 400, code: 131047, message: '(#131047) Re-engagement message', times: 1 } });
    const window = await sendErrorOf(sender.send(request({ text: 'x' })));
    expect(window).toMatchObject({ permanent: true });
    expect(window.message).toContain('24-hour window');

    const wrongToken = `EAAG${'leak'.repeat(30)}`;
    const refused = await sendErrorOf(createWhatsAppCloudSender({ phoneNumberId: PHONE_NUMBER_ID, accessToken: wrongToken, baseUrl: sim.url }).send(request({ text: 'x' })));
    expect(refused).toMatchObject({ permanent: true });
    expect(refused.message).toContain('190');
    expect(refused.message).not.toContain('leak');
    expect(JSON.stringify(refused)).not.toContain('leak');

    const unreachable = await sendErrorOf(createWhatsAppCloudSender({ phoneNumberId: PHONE_NUMBER_ID, accessToken: ACCESS_TOKEN, baseUrl: 'http://127.0.0.1:1' }).send(request({ text: 'x' })));
    expect(unreachable).toMatchObject({ permanent: false });
    expect(unreachable.message).not.toContain(ACCESS_TOKEN);
  });

  it('builds a sender per account from its sealed token and settings, rebuilt when the account changes', async () => {
    const secrets = createSecretBox(randomBytes(32));
    const senders = createWhatsAppCloudSenders({ secrets });
    const account = {
      tenantId: TENANT_ID,
      id: ACCOUNT_ID,
      kind: 'whatsapp_cloud',
      externalId: PHONE_NUMBER_ID,
      settings: { baseUrl: sim.url, graphVersion: '21.0' },
      secretsEnc: sealWhatsAppCloudSecrets(secrets, TENANT_ID, { accessToken: ACCESS_TOKEN, appSecret: 'app-secret' }),
      updatedAt: new Date(1),
    };
    const first = senders(account);
    expect(senders(account)).toBe(first);
    expect(senders({ ...account, updatedAt: new Date(2) })).not.toBe(first);
    const before = count();
    await first.send(request({ text: 'par le compte' }));
    expect(sentSince(before).map((message) => message.text)).toEqual(['par le compte']);
    // Another tenant's id cannot open the secrets (the tenant is the associated data).
    expect(() => senders({ ...account, tenantId: '00000000-0000-4000-8000-000000000001', updatedAt: new Date(3) })).toThrow();
    expect(() => senders({ ...account, externalId: null, updatedAt: new Date(4) })).toThrow(/phone number id/);
  });
});
