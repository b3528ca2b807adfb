export type DatabaseConfig =
  | {
      driver: 'postgres';
      /** Connection of the runtime role (not superuser, no BYPASSRLS, owns nothing). */
      url: string;
      /** Connection of the schema owner, used only to migrate. */
      ownerUrl?: string;
      poolSize?: number;
    }
  | {
      driver: 'pglite';
      /** A directory, or `memory://` for a throwaway database. */
      dataDir: string;
    };

export type DriverName = DatabaseConfig['driver'];

/** The role PGlite's runtime session runs as; on PostgreSQL it is DATABASE_URL's user. */
export const EMBEDDED_RUNTIME_ROLE = 'relais_app';

export const MIGRATIONS_FOLDER = new URL('../migrations', import.meta.url).pathname;
