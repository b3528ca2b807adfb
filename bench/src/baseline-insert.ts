import { PGlite } from '@electric-sql/pglite';
import Fastify from 'fastify';
import pg from 'pg';

/** What the baseline route runs: one parameterised statement, autocommit. */
interface Insert {
  (payload: unknown): Promise<void>;
  close(): Promise<void>;
}

const CREATE = 'CREATE TABLE IF NOT EXISTS bench_baseline (id serial PRIMARY KEY, payload jsonb NOT NULL)';
const INSERT = 'INSERT INTO bench_baseline (payload) VALUES ($1)';

async function postgresInsert(ownerUrl: string, poolSize: number): Promise<Insert> {
  const pool = new pg.Pool({ connectionString: ownerUrl, max: poolSize });
  pool.on('error', () => {});
  await pool.query(CREATE);
  const insert = (async (payload: unknown) => {
    await pool.query(INSERT, [JSON.stringify(payload)]);
  }) as Insert;
  insert.close = async () => {
    await pool.query('DROP TABLE IF EXISTS bench_baseline');
    await pool.end();
  };
  return insert;
}

async function pgliteInsert(): Promise<Insert> {
  // The application's PGlite is reachable only through its runtime-role transactions: the
  // baseline gets an in-memory PGlite of its own (same engine, same process).
  const client = new PGlite('memory://');
  await client.exec(CREATE);
  const insert = (async (payload: unknown) => {
    await client.query(INSERT, [JSON.stringify(payload)]);
  }) as Insert;
  insert.close = () => client.close();
  return insert;
}

/**
 * The baseline: a bare fastify app (no logger, no plugins) whose one route inserts the request's
 * query string as jsonb into a scratch table and answers 200, on the same PostgreSQL database as
 * the application (owner connection, same pool size) or on a PGlite of its own.
 */
export async function startBaselineServer(options: { ownerUrl?: string; poolSize: number }) {
  const insert = options.ownerUrl ? await postgresInsert(options.ownerUrl, options.poolSize) : await pgliteInsert();
  const app = Fastify({ logger: false });
  app.get('/baseline', async (request) => {
    await insert(request.query);
    return { received: true };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/baseline`,
    async close() {
      await app.close();
      await insert.close();
    },
  };
}
