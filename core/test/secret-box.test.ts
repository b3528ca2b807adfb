import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSecretBox } from '@relais/core';

describe('secret box', () => {
  const box = createSecretBox(randomBytes(32));

  it('round-trips any text for its owner', () => {
    fc.assert(fc.property(fc.string(), fc.uuid(), (secret, owner) => box.open(box.seal(secret, owner), owner) === secret));
  });

  it('never produces the same ciphertext twice and never contains the plaintext', () => {
    const a = box.seal('router-password', 'tenant-a');
    expect(a).not.toBe(box.seal('router-password', 'tenant-a'));
    expect(a).not.toContain('router-password');
  });

  it("refuses another owner's ciphertext, tampered data and another key", () => {
    const sealed = box.seal('campay-key', 'tenant-a');
    expect(() => box.open(sealed, 'tenant-b')).toThrow(/cannot be decrypted/);
    const tampered = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA');
    expect(() => box.open(tampered, 'tenant-a')).toThrow(/cannot be decrypted/);
    expect(() => createSecretBox(randomBytes(32)).open(sealed, 'tenant-a')).toThrow(/cannot be decrypted/);
    expect(() => box.open('garbage', 'tenant-a')).toThrow(/not a sealed secret/);
  });
});
