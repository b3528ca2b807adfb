import { z } from 'zod';
import type { ChannelAccountWithSecrets, InboundFile } from '@relais/core';
import { downloadInboundFile, FileUnavailableError, isFinalRefusal } from '../shared/download-inbound-file.js';
import { DEFAULT_GRAPH_BASE_URL, DEFAULT_GRAPH_VERSION } from './whatsapp-cloud-capabilities.js';
import type { WaInboundMessage } from './whatsapp-cloud-events.js';
import { whatsappCloudSettingsSchema } from './whatsapp-cloud-secrets.js';

const MEDIA_INFO_TIMEOUT_MS = 15_000;

/** GET /<media-id>: where the file is (a short-lived URL that also wants the bearer token) and its size. */
const mediaInfoSchema = z.looseObject({ url: z.url({ protocol: /^https?$/ }), file_size: z.coerce.number().int().nonnegative().optional(), mime_type: z.string().optional() });

/** The media a customer's message carries (photo, document, voice note), with its caption and name. */
export function mediaOfMessage(message: WaInboundMessage): { id: string; caption?: string; fileName?: string } | undefined {
  const media = message.type === 'image' ? message.image : message.type === 'document' ? message.document : message.type === 'audio' ? message.audio : undefined;
  if (!media) return undefined;
  return { id: media.id, caption: media.caption, fileName: media.filename ?? (message.type === 'image' ? 'photo.jpg' : message.type === 'audio' ? 'audio.ogg' : undefined) };
}

/**
 * Downloads a customer's media with the number's access token: the media's URL and size from
 * Graph, then the bytes (nothing when Graph declares it over the limit; at most the limit + 1
 * byte otherwise). Errors say what failed, never the URL or the token: FileUnavailableError when
 * Graph refuses for good (unknown or expired media), a plain Error when a retry may succeed.
 */
export async function downloadWhatsAppCloudMedia(account: ChannelAccountWithSecrets, media: { id: string; fileName?: string }): Promise<InboundFile> {
  const accessToken = account.secrets.accessToken;
  if (!accessToken) throw new Error('the WhatsApp Cloud channel account has no access token');
  const settings = whatsappCloudSettingsSchema.safeParse(account.settings);
  if (!settings.success) throw new Error('the WhatsApp Cloud channel account settings are invalid (baseUrl, graphVersion)');
  const version = (settings.data.graphVersion ?? DEFAULT_GRAPH_VERSION).replace(/^v?/, 'v');
  const base = (settings.data.baseUrl ?? DEFAULT_GRAPH_BASE_URL).replace(/\/+$/, '');
  const headers = { authorization: `Bearer ${accessToken}` };
  let response: Response;
  try {
    response = await fetch(`${base}/${version}/${encodeURIComponent(media.id)}`, { headers, signal: AbortSignal.timeout(MEDIA_INFO_TIMEOUT_MS) });
  } catch (error) {
    throw new Error(`WhatsApp media lookup failed (${error instanceof Error ? error.name : 'error'})`);
  }
  const json: unknown = await response.json().catch(() => undefined);
  const info = mediaInfoSchema.safeParse(json);
  if (!response.ok || !info.success) {
    const message = `WhatsApp media lookup failed (HTTP ${response.status})`;
    throw isFinalRefusal(response.status) ? new FileUnavailableError(message) : new Error(message);
  }
  return downloadInboundFile({ url: info.data.url, headers, declaredSize: info.data.file_size, fileName: media.fileName });
}
