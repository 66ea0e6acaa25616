-- Single-use OAuth states for "Login with USPS" (only a hash of the state is stored; the
-- callback, which arrives without a tenant, reads the one row whose hash it names in
-- `backhaul.oauth_state_hash`).
CREATE TABLE oauth_states (
    state_hash   bytea PRIMARY KEY CHECK (length(state_hash) = 32),
    tenant_id    text NOT NULL REFERENCES tenants (id),
    carrier      text NOT NULL,
    account_name text NOT NULL,
    expires_at   timestamptz NOT NULL,
    consumed_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE oauth_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE oauth_states FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON oauth_states
    USING (tenant_id = app_tenant() OR app_is_admin())
    WITH CHECK (tenant_id = app_tenant() OR app_is_admin());
CREATE POLICY lookup_by_state ON oauth_states FOR SELECT
    USING (encode(state_hash, 'hex') = current_setting('backhaul.oauth_state_hash', true));
CREATE POLICY consume_by_state ON oauth_states FOR UPDATE
    USING (encode(state_hash, 'hex') = current_setting('backhaul.oauth_state_hash', true));
GRANT SELECT, INSERT, UPDATE (consumed_at) ON oauth_states TO backhaul_app;

-- The carrier-token cache every server instance shares (OAuth access tokens, payment
-- authorizations), sealed like credentials. Keys are opaque hashes built by the carrier plugin
-- and hold no tenant data, so the table is platform-wide.
CREATE TABLE carrier_tokens (
    cache_key        text PRIMARY KEY CHECK (length(cache_key) BETWEEN 1 AND 200),
    sealed           bytea NOT NULL,
    data_key_wrapped bytea NOT NULL,
    master_key_id    text NOT NULL,
    expires_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX carrier_tokens_master_key ON carrier_tokens (master_key_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON carrier_tokens TO backhaul_app;
