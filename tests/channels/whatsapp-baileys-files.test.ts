import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { and, asc, desc, eq } from 'drizzle-orm';
import type { WAMessage } from '@whiskeysockets/baileys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachmentRejectionText, createChannelAccount, createLocalDiskFileStore, createSecretBox, createTenant, MAX_INBOUND_FILE_READ_BYTES, systemClock } from '@relais/core';
import { attachments, ticketMessages, tickets, type DriverName } from '@relais/db';
import { readAtMost, WhatsAppConnections, type MakeWhatsAppSocket } from '@relais/bots/whatsapp';
import { eventually } from '../support/relais-process.js';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/test-database.js';
import { randomPng } from '../support/test-files.js';
import { customerText, FakeBaileysSocket, textOfSent } from './whatsapp-baileys-fake-socket.js';

/** WhatsApp's side of media: the bytes behind each message id, handed out up to the cap asked for. */
class FakeBaileysSocketWithMedia extends FakeBaileysSocket {
  readonly media = new Map<string, Buffer>();
  readonly downloads: { id: string; maxBytes: number }[] = [];

  async downloadMedia(message: WAMessage, maxBytes: number): Promise<Buffer> {
    const id = message.key?.id ?? '';
    this.downloads.push({ id, maxBytes });
    const bytes = this.media.get(id);
    if (!bytes) throw Object.assign(new Error('media not found'), { isBoom: true, output: { statusCode: 404, payload: {} } });
    return bytes.subarray(0, maxBytes);
  }
}

let photoCounter = 0;
/** A photo message as Baileys delivers it (the media keys and URL are what downloadMedia uses). */
function customerPhoto(jid: string, options: { caption?: string; fileLength?: number }): Partial<WAMessage> {
  photoCounter += 1;
  return {
    key: { remoteJid: jid, fromMe: false, id: `PHOTO${Date.now()}${photoCounter}` },
    message: { imageMessage: { mimetype: 'image/jpeg', ...(options.caption ? { caption: options.caption } : {}), ...(options.fileLength !== undefined ? { fileLength: options.fileLength } : {}) } },
    messageTimestamp: Math.floor(Date.now() / 1000),
    pushName: 'Awa',
  };
}

/** The number in front of `label` in a numbered list ("1. Français"). */
function numberOf(text: string, label: string): string {
  const number = text.split('\n').find((line) => line.endsWith(` ${label}`))?.match(/^(\d+)\. /)?.[1];
  if (!number) throw new Error(`"${label}" is not in the list:\n${text}`);
  return number;
}

// Photos received on a Baileys number: downloaded through the socket (capped), judged by core and
// put on the conversation's ticket. The fake socket plays WhatsApp; everything else is real.
describe.each(testDrivers())('WhatsApp (Baileys): photos become ticket attachments on %s', (driver: DriverName) => {
  let test: TestDatabase;
  let filesDir: string;
  const connections = new WhatsAppConnections('process-files', { deliverEveryMs: 250 });
  const sockets: FakeBaileysSocketWithMedia[] = [];
  const makeSocket: MakeWhatsAppSocket = ({ auth }) => {
    const socket = new FakeBaileysSocketWithMedia(auth);
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    filesDir = await mkdtemp(join(tmpdir(), 'relais-wa-files-'));
  });
  afterAll(async () => {
    await connections.closeAll();
    await test?.drop();
    if (filesDir) await rm(filesDir, { recursive: true, force: true });
  });

  it('a photo sent while an agent holds the conversation lands on the ticket; one announced over 10 MB is refused undownloaded', async () => {
    const deps = { db: test.db, secrets: createSecretBox(randomBytes(32)), clock: systemClock, fileStore: createLocalDiskFileStore(filesDir) };
    const { tenant } = await createTenant(deps, { name: 'Wifi Zone Ndokoti', email: `ndokoti-files-${driver}@example.cm` });
    const tenantId = tenant.id;
    const account = await createChannelAccount(deps, { tenantId, kind: 'whatsapp', name: 'WhatsApp Ndokoti' });
    connections.open({ ...deps, makeSocket }, { tenantId, channelAccountId: account.id });
    const socket = await eventually(async () => sockets[0], 10_000, 'the socket');
    await socket.open();

    const jid = '237670003003@s.whatsapp.net';
    let seen = 0;
    const expectMessage = (what: string, test: (text: string) => boolean) =>
      eventually(
        async () => {
          const index = socket.sent.findIndex((message, position) => position >= seen && message.jid === jid && test(textOfSent(message.content)));
          if (index < 0) return undefined;
          seen = index + 1;
          return textOfSent(socket.sent[index]!.content);
        },
        30_000,
        what,
      );
    await socket.receive([customerText(jid, 'bonjour', { pushName: 'Awa' })]);
    const languages = await expectMessage('the language list', (text) => text.includes('Français'));
    await socket.receive([customerText(jid, numberOf(languages, 'Français'), { pushName: 'Awa' })]);
    await socket.receive([customerText(jid, 'agent', { pushName: 'Awa' })]);
    await expectMessage('the hand-off', (text) => text.includes('Un agent va vous répondre'));
    const [ticket] = await test.db.withTenant(tenantId, (tx) => tx.select().from(tickets).where(eq(tickets.tenantId, tenantId)).orderBy(desc(tickets.number)).limit(1));

    const photo = randomPng(40, 30);
    const message = customerPhoto(jid, { caption: 'Le câble est coupé', fileLength: photo.length });
    socket.media.set(message.key!.id!, photo);
    await socket.receive([message]);
    const [attached] = await eventually(async () => {
      const rows = await test.db.withTenant(tenantId, (tx) => tx.select().from(attachments).where(and(eq(attachments.tenantId, tenantId), eq(attachments.ticketId, ticket!.id))));
      return rows.length > 0 ? rows : undefined;
    }, 30_000, 'the attachment');
    const messages = await test.db.withTenant(tenantId, (tx) =>
      tx.select().from(ticketMessages).where(and(eq(ticketMessages.tenantId, tenantId), eq(ticketMessages.ticketId, ticket!.id))).orderBy(asc(ticketMessages.createdAt)),
    );
    const last = messages.at(-1)!;
    // The caption is the message; the type comes from the bytes (a PNG), not from WhatsApp's "image/jpeg".
    expect(last).toMatchObject({ authorKind: 'customer', body: 'Le câble est coupé' });
    expect(attached).toMatchObject({ messageId: last.id, contentType: 'image/png', sizeBytes: photo.length });
    expect(socket.downloads).toEqual([{ id: message.key!.id!, maxBytes: MAX_INBOUND_FILE_READ_BYTES }]);

    // Announced at 10 MB + 1 byte: refused with the usual message, never downloaded.
    const huge = customerPhoto(jid, { fileLength: MAX_INBOUND_FILE_READ_BYTES });
    await socket.receive([huge]);
    await expectMessage('the refusal', (text) => text.includes(attachmentRejectionText('too_large').fr));
    expect(socket.downloads.map((download) => download.id)).not.toContain(huge.key!.id!);
  }, 120_000);
});

describe('readAtMost (the real socket’s capped media read)', () => {
  it('stops at the cap and destroys the stream; a smaller file is read whole', async () => {
    const chunks = Array.from({ length: 10 }, () => randomBytes(1_000));
    const stream = Readable.from(chunks);
    const read = await readAtMost(stream, 2_500);
    expect(read.equals(Buffer.concat(chunks).subarray(0, 2_500))).toBe(true);
    expect(stream.destroyed).toBe(true);
    expect((await readAtMost(Readable.from(chunks.slice(0, 2)), 2_500)).equals(Buffer.concat(chunks.slice(0, 2)))).toBe(true);
  });
});
