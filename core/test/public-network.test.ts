import { describe, expect, it } from 'vitest';
import { isPrivateNetworkAddress, PrivateNetworkAddressError, privateUrlHost, publicNetworkLookup } from '../src/shared/public-network.js';

describe('public network guard (webhook targets)', () => {
  it('tells private, loopback, link-local and reserved addresses from public ones, IPv4 and IPv6', () => {
    const notPublic = [
      '127.0.0.1', '127.8.9.10', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.20', '169.254.169.254', '100.64.0.1',
      '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fd12:3456::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '64:ff9b::a00:1',
      'not an address',
    ];
    const publicOnes = ['8.8.8.8', '41.202.219.1', '172.32.0.1', '192.169.0.1', '100.128.0.1', '2001:4860:4860::8888', '2c0f:f0f8::1'];
    expect(notPublic.filter((address) => !isPrivateNetworkAddress(address))).toEqual([]);
    expect(publicOnes.filter((address) => isPrivateNetworkAddress(address))).toEqual([]);
  });

  it('names the host of a URL that points at this server or a private network by its literal address or name', () => {
    for (const url of ['http://localhost:3000/x', 'http://LOCALHOST./x', 'http://api.localhost/x', 'http://127.0.0.1/x', 'https://[::1]:8443/x', 'http://169.254.169.254/latest/meta-data', 'http://10.1.2.3/hook']) {
      expect(privateUrlHost(url), url).toBeDefined();
    }
    for (const url of ['https://crm.example.cm/hooks/relais', 'http://41.202.219.1/hook', 'https://[2001:4860:4860::8888]/x']) {
      expect(privateUrlHost(url), url).toBeUndefined();
    }
  });

  it('refuses a name that resolves only to private addresses, in both lookup forms node:http uses', async () => {
    const lookupAll = () =>
      new Promise<unknown>((resolve, reject) => publicNetworkLookup('localhost', { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));
    const lookupOne = () =>
      new Promise<unknown>((resolve, reject) => publicNetworkLookup('localhost', {}, (error, address) => (error ? reject(error) : resolve(address))));
    await expect(lookupAll()).rejects.toBeInstanceOf(PrivateNetworkAddressError);
    await expect(lookupOne()).rejects.toBeInstanceOf(PrivateNetworkAddressError);
  });
});
