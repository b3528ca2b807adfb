import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { ConfigError } from './config.js';

/**
 * APP_KEY from the environment; outside production, a key file created on first start so that
 * `npm start` needs no set-up. Losing the key makes stored tenant secrets unreadable.
 */
export function resolveAppKey(config: Config, logger: Logger): Buffer {
  if (config.appKey) return Buffer.from(config.appKey, 'base64');
  if (existsSync(config.appKeyFile)) {
    const key = Buffer.from(readFileSync(config.appKeyFile, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new ConfigError(`APP_KEY_FILE ${config.appKeyFile} does not hold 32 bytes in base64`);
    return key;
  }
  const key = randomBytes(32);
  mkdirSync(dirname(config.appKeyFile), { recursive: true });
  writeFileSync(config.appKeyFile, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  logger.warn({ file: config.appKeyFile }, 'Generated a new APP_KEY file; back it up, stored secrets depend on it');
  return key;
}
