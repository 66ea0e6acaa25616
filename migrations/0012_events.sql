-- The tenant's event log and the webhook outbox: every change the returns SaaS hears about is
-- a row here, written in the same transaction as the change (a transactional outbox). Rows are
-- never updated; deliveries to webhook endpoints are kept beside them.
CREATE TABLE events (
    id         text PRIMARY KEY CHECK (id ~ '^evt_[0-9A-Za-z]{20}$'),
    tenant_id  text NOT NULL REFERENCES tenants (id),
    type       text NOT NULL CHECK (type ~ '^[a-z_]+\.[a-z_]+$'),
    -- What the event is about (a label or account id): deliveries of one subject keep order.
    subject_id text NOT NULL,
    data       jsonb NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    -- Commit order is not id order; `seq` orders events of one subject (one writer at a time
    -- per subject: the label's row lock).
    seq        bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX events_listing ON events (tenant_id, created_at DESC, id DESC);
CREATE INDEX events_by_type ON events (tenant_id, type, created_at DESC, id DESC);
CREATE INDEX events_subject ON events (subject_id, seq);

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON events
    USING (tenant_id = app_tenant() OR app_is_admin())
    WITH CHECK (tenant_id = app_tenant() OR app_is_admin());
GRANT SELECT, INSERT ON events TO backhaul_app;
