import { createHmac } from 'node:crypto';

/**
 * Signs a JWT with HS256, as CamPay signs its callbacks. Deliberately separate from core's
 * verifier: the tests check one implementation against the other.
 */
export function signHs256Jwt(claims: Record<string, unknown>, key: string): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${unsigned}.${createHmac('sha256', key).update(unsigned).digest('base64url')}`;
}
