import QRCode from 'qrcode';
import { voucherQrContent, type VoucherCredentials } from './voucher-login.js';

const QR_PNG_WIDTH_PX = 360;

/**
 * The QR image sent with a voucher in a chat: a PNG of the hotspot login URL when the router has
 * a DNS name, else of the code alone (see voucherQrContent). Error correction M survives a
 * screenshot being cropped or compressed by a messenger.
 */
export async function renderVoucherQrPng(voucher: VoucherCredentials & { dnsName?: string | null }): Promise<Buffer> {
  return QRCode.toBuffer(voucherQrContent(voucher, voucher.dnsName), { type: 'png', errorCorrectionLevel: 'M', margin: 2, width: QR_PNG_WIDTH_PX });
}
