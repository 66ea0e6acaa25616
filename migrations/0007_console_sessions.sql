-- The web console: sign-in sessions, and the "Login with USPS" sign-ins the console started.
--
-- A session is 32 random bytes in an HttpOnly cookie; only their SHA-256 is stored, with whom
-- the session acts for (the tenant or admin API key it was opened with) and when it ends. Like
-- an API key, a request finds its session before any tenant is known: its transaction names
-- the hash in `backhaul.console_session_hash`, which opens that one row to reading and to
-- deletion (signing out), and to nothing else. A session is opened in its tenant's scope (an
-- admin session in the admin scope), so no request can open one for another tenant.
-- The CSRF token of a session is derived from its secret (see crates/server/src/console), so
-- nothing more is stored.

CREATE TABLE console_sessions (
    id_hash    bytea PRIMARY KEY CHECK (length(id_hash) = 32),
    kind       text NOT NULL CHECK (kind IN ('tenant', 'admin')),
    tenant_id  text REFERENCES tenants (id),
    api_key_id text NOT NULL REFERENCES api_keys (id),
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'admin') = (tenant_id IS NULL))
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

ALTER TABLE console_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE console_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON console_sessions
    USING (tenant_id = app_tenant() OR app_is_admin())
    WITH CHECK (tenant_id = app_tenant() OR app_is_admin());
CREATE POLICY lookup_by_secret ON console_sessions FOR SELECT
    USING (encode(id_hash, 'hex') = current_setting('backhaul.console_session_hash', true));
CREATE POLICY end_by_secret ON console_sessions FOR DELETE
    USING (encode(id_hash, 'hex') = current_setting('backhaul.console_session_hash', true));
GRANT SELECT, INSERT, DELETE ON console_sessions TO backhaul_app;

-- Sign-ins started from the console: when the browser comes back to the OAuth callback with
-- one of these states, the callback sends it on to the console's details form (or to its
-- "Login failed — try again" page) instead of answering with the API's own page. The callback
-- reads the row the way it reads `oauth_states`: by the state's hash in
-- `backhaul.oauth_state_hash`.
CREATE TABLE console_sign_ins (
    state_hash bytea PRIMARY KEY REFERENCES oauth_states (state_hash),
    tenant_id  text NOT NULL REFERENCES tenants (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE console_sign_ins ENABLE ROW LEVEL SECURITY;
ALTER TABLE console_sign_ins FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON console_sign_ins
    USING (tenant_id = app_tenant() OR app_is_admin())
    WITH CHECK (tenant_id = app_tenant() OR app_is_admin());
CREATE POLICY lookup_by_state ON console_sign_ins FOR SELECT
    USING (encode(state_hash, 'hex') = current_setting('backhaul.oauth_state_hash', true));
GRANT SELECT, INSERT ON console_sign_ins TO backhaul_app;
