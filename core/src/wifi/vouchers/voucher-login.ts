/** A voucher as a customer uses it to log in to the hotspot. */
export interface VoucherCredentials {
  username: string;
  password: string;
}

/**
 * What a voucher's QR code holds: the hotspot login URL `http://<dns-name>/login?username=..&password=..`
 * when the router's hotspot has a DNS name (scanning logs the phone in; needs HTTP PAP on the
 * hotspot profile), else the code alone (the user name, then the password when it differs), to
 * read and type.
 */
export function voucherQrContent(voucher: VoucherCredentials, dnsName: string | null | undefined): string {
  if (dnsName) return hotspotLoginUrl(dnsName, voucher);
  return voucher.password === voucher.username ? voucher.username : `${voucher.username} ${voucher.password}`;
}

export function hotspotLoginUrl(dnsName: string, voucher: VoucherCredentials): string {
  return `http://${dnsName}/login?username=${encodeURIComponent(voucher.username)}&password=${encodeURIComponent(voucher.password)}`;
}
