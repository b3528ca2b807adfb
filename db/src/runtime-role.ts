import { DatabaseSetupError } from './errors.js';
import { appendOnlyTableNames, centralTableNames, tenantTableNames } from './tables.js';

/** Runs one SQL statement; both drivers' owner connections provide it. */
export type RunStatement = (statement: string) => Promise<{ rows: Record<string, unknown>[] }>;

const PLAIN_ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function quoteRoleName(role: string): string {
  if (!PLAIN_ROLE_NAME.test(role)) {
    throw new DatabaseSetupError(
      `Database role "${role}" is not a plain name: use lowercase letters, digits and underscores.`,
    );
  }
  return `"${role}"`;
}

const quoteLiteral = (value: string) => `'${value.replaceAll("'", "''")}'`;

/**
 * Run by the owner after migrating: creates the runtime role when missing (never a superuser,
 * never BYPASSRLS, member of nothing) and grants it data access but no ownership. Idempotent
 * and safe when several databases of one cluster do it at the same time.
 */
export async function ensureRuntimeRole(run: RunStatement, role: string, password?: string): Promise<void> {
  const quoted = quoteRoleName(role);
  const passwordClause = password ? ` PASSWORD ${quoteLiteral(password)}` : '';
  await run(`DO $$ BEGIN
    CREATE ROLE ${quoted} LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE${passwordClause};
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END $$`);
  const { rows } = await run('SELECT current_database() AS name');
  const database = String(rows[0]?.name).replaceAll('"', '""');
  await run(`GRANT CONNECT ON DATABASE "${database}" TO ${quoted}`);
  await run(`GRANT USAGE ON SCHEMA public TO ${quoted}`);
  await run(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${quoted}`);
  await run(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${quoted}`);
  const appendOnly = appendOnlyTableNames.map((name) => `"${name}"`).join(', ');
  await run(`REVOKE UPDATE, DELETE, TRUNCATE ON ${appendOnly} FROM ${quoted}`);
}

/** Predefined roles that reach around row-level security (raw files, server programs). */
const DANGEROUS_PREDEFINED_ROLES = ['pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program', 'pg_database_owner'];

/**
 * Everything that would let the connected session escape row-level security, for its own role
 * and every role it can SET ROLE to: superuser, BYPASSRLS, CREATEROLE, owning tables, the schema
 * or the database (owners can disable RLS or drop and recreate tables), membership in predefined
 * roles that read files or run programs; CREATE on the database or schema; and any table whose
 * RLS is missing or not forced. Empty means confined.
 */
export async function findRowLevelSecurityEscapes(run: RunStatement): Promise<string[]> {
  const problems: string[] = [];
  const { rows: roles } = await run(`
    SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolbypassrls AS bypassrls, r.rolcreaterole AS createrole,
           r.rolname = session_user AS is_session_role,
           session_user AS session_role,
           (SELECT string_agg(c.relname, ', ' ORDER BY c.relname)
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relowner = r.oid AND n.nspname = 'public' AND c.relkind IN ('r', 'p')) AS owned_tables,
           EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = 'public' AND n.nspowner = r.oid) AS owns_schema,
           EXISTS (SELECT 1 FROM pg_database d WHERE d.datname = current_database() AND d.datdba = r.oid) AS owns_database
      FROM pg_roles r
     WHERE pg_has_role(session_user, r.oid, 'MEMBER')
     ORDER BY r.rolname = session_user DESC, r.rolname`);
  for (const role of roles) {
    const name = String(role.name);
    const who = role.is_session_role ? `role "${name}"` : `role "${String(role.session_role)}" can switch to role "${name}", which`;
    if (role.superuser) problems.push(`${who} is a superuser`);
    if (role.bypassrls) problems.push(`${who} has BYPASSRLS`);
    if (role.createrole) problems.push(`${who} has CREATEROLE`);
    if (role.owned_tables) problems.push(`${who} owns tables (${String(role.owned_tables).slice(0, 80)})`);
    if (role.owns_schema) problems.push(`${who} owns the public schema`);
    if (role.owns_database) problems.push(`${who} owns the database`);
    if (DANGEROUS_PREDEFINED_ROLES.includes(name) && !role.is_session_role) problems.push(`role "${String(role.session_role)}" is a member of ${name}`);
  }

  const { rows: privileges } = await run(`
    SELECT has_database_privilege(session_user, current_database(), 'CREATE') AS create_in_database,
           has_schema_privilege(session_user, 'public', 'CREATE') AS create_in_schema`);
  if (privileges[0]?.create_in_database) problems.push('the role may CREATE schemas in the database');
  if (privileges[0]?.create_in_schema) problems.push('the role may CREATE objects in the public schema');

  const expected = [...centralTableNames, ...tenantTableNames];
  const { rows: tables } = await run(`
    SELECT t.name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced
      FROM unnest(ARRAY[${expected.map(quoteLiteral).join(', ')}]::text[]) AS t(name)
      LEFT JOIN pg_class c ON c.relname = t.name AND c.relnamespace = 'public'::regnamespace`);
  const missing = tables.filter((table) => table.enabled === null).map((table) => String(table.name));
  const unforced = tables
    .filter((table) => table.enabled !== null && !(table.enabled && table.forced))
    .map((table) => String(table.name));
  if (missing.length > 0) problems.push(`the schema is not migrated (missing ${missing.slice(0, 3).join(', ')}...): run "relais migrate"`);
  if (unforced.length > 0) problems.push(`row-level security is not enabled and forced on ${unforced.join(', ')}`);
  return problems;
}
