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
    // Flip one bit of the ciphertext's bytes (editing base64 text may only touch padding bits).
    const parts = sealed.split('.');
    const bytes = Buffer.from(parts[3]!, 'base64url');
    bytes[0]! ^= 0x01;
    const tampered = [...parts.slice(0, 3), bytes.toString('base64url')].join('.');
    expect(() => box.open(tampered, 'tenant-a')).toThrow(/cannot be decrypted/);
    expect(() => createSecretBox(randomBytes(32)).open(sealed, 'tenant-a')).toThrow(/cannot be decrypted/);
    expect(() => box.open('garbage', 'tenant-a')).toThrow(/not a sealed secret/);
  });
});
