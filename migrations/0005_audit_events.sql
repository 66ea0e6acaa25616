-- The append-only audit trail. Each tenant's events form a SHA-256 hash chain (the platform's
-- own events, such as master-key rotation, a chain with no tenant): `hash` covers `prev_hash`
-- and every other column, so editing or removing an event breaks the chain at that event.
-- The application role may only INSERT and SELECT; a trigger refuses UPDATE, DELETE and
-- TRUNCATE for everyone else.

CREATE TABLE audit_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  text REFERENCES tenants (id),
    at         timestamptz NOT NULL,
    actor      text NOT NULL,
    action     text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    target     text,
    request_id text,
    summary    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(summary) = 'object'),
    prev_hash  bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash       bytea NOT NULL UNIQUE CHECK (length(hash) = 32)
);
CREATE INDEX audit_events_tenant ON audit_events (tenant_id, id);
CREATE INDEX audit_events_target ON audit_events (target, id);
CREATE INDEX audit_events_action ON audit_events (action, id);

CREATE FUNCTION audit_events_are_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_are_append_only();
CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_are_append_only();

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_events FOR SELECT
    USING (tenant_id = app_tenant() OR app_is_admin());
CREATE POLICY append ON audit_events FOR INSERT
    WITH CHECK (tenant_id = app_tenant() OR app_is_admin());
GRANT SELECT, INSERT ON audit_events TO backhaul_app;
