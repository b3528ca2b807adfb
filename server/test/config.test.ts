import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const configError = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig', () => {
  it('runs embedded with no environment at all', () => {
    const config = loadConfig({});
    expect(config.database).toEqual({ driver: 'pglite', dataDir: './data/pglite' });
    expect(config.http).toEqual({ host: '0.0.0.0', port: 3000 });
    expect(config.redisUrl).toBeUndefined();
    expect(config.jobsInServer).toBe(true);
  });

  it('uses PostgreSQL and Redis when their URLs are set, and treats empty variables as unset', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://relais_app@db:5432/relais',
      DATABASE_OWNER_URL: 'postgres://owner@db:5432/relais',
      REDIS_URL: 'redis://cache:6379',
      JOBS_IN_SERVER: 'false',
      PORT: '',
    });
    expect(config.database).toEqual({ driver: 'postgres', url: 'postgres://relais_app@db:5432/relais', ownerUrl: 'postgres://owner@db:5432/relais', poolSize: 10 });
    expect(config.redisUrl).toBe('redis://cache:6379');
    expect(config.jobsInServer).toBe(false);
    expect(config.http.port).toBe(3000);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT must be a whole number from 1 to 65535 (got "abc")'],
    [{ PORT: '70000' }, 'PORT must be a whole number from 1 to 65535 (got "70000")'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")'],
    [{ JOBS_IN_SERVER: 'maybe' }, 'JOBS_IN_SERVER'],
    [{ DATABASE_POOL_SIZE: '0' }, 'DATABASE_POOL_SIZE must be a whole number from 1 to 200 (got "0")'],
    [{ NODE_ENV: 'prod' }, 'NODE_ENV must be development, production or test (got "prod")'],
    [{ NODE_ENV: 'production' }, 'APP_KEY is required in production'],
    [{ APP_KEY: 'c2hvcnQ=' }, 'APP_KEY must be 32 random bytes in base64'],
    [{ DATABASE_OWNER_URL: 'postgres://owner@db/relais' }, 'DATABASE_URL must be set when DATABASE_OWNER_URL is'],
  ])('refuses %o with one line naming the variable', (env, message) => {
    const text = configError(env);
    expect(text).toContain(message);
    expect(text.split('\n')).toHaveLength(1);
  });

  it('never echoes the value of a variable that may hold a password', () => {
    const text = configError({ DATABASE_URL: 'mysql://user:hunter2@db/relais' });
    expect(text).toBe('DATABASE_URL must be a postgres://user@host:port/database URL');
    expect(configError({ REDIS_URL: 'http://:s3cret@cache' })).not.toContain('s3cret');
    expect(configError({ APP_KEY: 'dG9vLXNob3J0LXNlY3JldA==' })).not.toContain('dG9v');
  });
});
