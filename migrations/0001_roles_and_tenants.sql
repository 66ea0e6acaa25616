-- The application role and tenant isolation.
--
-- The service connects as `backhaul_app`: not the owner of any table, not a superuser, no
-- BYPASSRLS, so row-level security applies to every query it makes. Migrations run as the
-- owner. Every tenant table has FORCE ROW LEVEL SECURITY and a policy on the transaction-local
-- setting `backhaul.tenant_id`; the admin API sets `backhaul.scope = 'admin'` instead.
-- In production the role gets its password from the DBA (ALTER ROLE backhaul_app PASSWORD …).

DO $$
BEGIN
    CREATE ROLE backhaul_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT;
EXCEPTION
    -- Another database of the same cluster created it first (tests migrate many at once).
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

GRANT USAGE ON SCHEMA public TO backhaul_app;

-- The tenant of the current transaction, or NULL.
CREATE FUNCTION app_tenant() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('backhaul.tenant_id', true), '') $$;

-- Whether the current transaction acts for an administrator (all tenants).
CREATE FUNCTION app_is_admin() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT coalesce(current_setting('backhaul.scope', true), '') = 'admin' $$;

GRANT EXECUTE ON FUNCTION app_tenant(), app_is_admin() TO backhaul_app;

CREATE TABLE tenants (
    id         text PRIMARY KEY CHECK (id ~ '^ten_[0-9A-Za-z]{20}$'),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants
    USING (id = app_tenant() OR app_is_admin())
    WITH CHECK (app_is_admin());
GRANT SELECT, INSERT ON tenants TO backhaul_app;

-- API keys: only a SHA-256 of the secret is stored. A tenant key belongs to one tenant; an
-- admin key to none. Authentication reads the one row whose hash the transaction names in
-- `backhaul.api_key_hash`, before any tenant is known.
CREATE TABLE api_keys (
    id           text PRIMARY KEY CHECK (id ~ '^key_[0-9A-Za-z]{20}$'),
    tenant_id    text REFERENCES tenants (id),
    kind         text NOT NULL CHECK (kind IN ('tenant', 'admin')),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    secret_hash  bytea NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    last_used_at timestamptz,
    CHECK ((kind = 'admin') = (tenant_id IS NULL))
);

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_keys
    USING (tenant_id = app_tenant() OR app_is_admin())
    WITH CHECK (tenant_id = app_tenant() OR app_is_admin());
CREATE POLICY lookup_by_secret ON api_keys FOR SELECT
    USING (encode(secret_hash, 'hex') = current_setting('backhaul.api_key_hash', true));
GRANT SELECT, INSERT, UPDATE (revoked_at, last_used_at) ON api_keys TO backhaul_app;
