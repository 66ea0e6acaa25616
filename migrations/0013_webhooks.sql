-- Webhooks to the returns SaaS (Standard Webhooks): the tenant's endpoints, one delivery per
-- endpoint and event (the outbox's work queue, written with the event in the same statement),
-- and every attempt of a delivery.

-- An endpoint's signing secret is sealed (AES-256-GCM) under the endpoint's own data key, which
-- is stored wrapped under the master key named in `master_key_id` (as for shipper accounts).
-- During a rotation's grace period the previous secret is kept sealed beside it until
-- `previous_secret_expires_at`, and both sign.
CREATE TABLE webhook_endpoints (
    id                         text PRIMARY KEY CHECK (id ~ '^we_[0-9A-Za-z]{20}$'),
    tenant_id                  text NOT NULL REFERENCES tenants (id),
    url                        text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    -- Event type names, or the one entry '*' for every type.
    events                     text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 32),
    description                text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    status                     text NOT NULL CHECK (status IN ('enabled', 'disabled')),
    disabled_reason            text CHECK (length(disabled_reason) <= 500),
    disabled_at                timestamptz,
    secret_sealed              bytea NOT NULL,
    previous_secret_sealed     bytea,
    previous_secret_expires_at timestamptz,
    data_key_wrapped           bytea NOT NULL,
    master_key_id              text NOT NULL,
    last_success_at            timestamptz,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    CHECK ((previous_secret_sealed IS NULL) = (previous_secret_expires_at IS NULL)),
    CHECK ((status = 'disabled') = (disabled_at IS NOT NULL))
);
CREATE INDEX webhook_endpoints_listing ON webhook_endpoints (tenant_id, created_at, id);
CREATE INDEX webhook_endpoints_master_key ON webhook_endpoints (master_key_id);

ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_endpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_endpoints
    USING (tenant_id = app_tenant() OR app_is_admin())
    WITH CHECK (tenant_id = app_tenant() OR app_is_admin());
GRANT SELECT, INSERT, DELETE ON webhook_endpoints TO backhaul_app;
GRANT UPDATE (url, events, description, status, disabled_reason, disabled_at, secret_sealed,
              previous_secret_sealed, previous_secret_expires_at, data_key_wrapped,
              master_key_id, last_success_at, updated_at)
    ON webhook_endpoints TO backhaul_app;

-- One delivery of one event to one endpoint. `state` is `pending` until a 2xx (`succeeded`) or
-- until its retries are exhausted (`failed`). A worker claims a due delivery by moving
-- `next_attempt_at` past a short lease, so a crashed worker's delivery comes due again (and is
-- sent again, with the same `webhook-id`: at least once). `subject_id` and `seq` are the
-- event's: a delivery waits while an earlier one of the same endpoint and subject is pending.
CREATE TABLE webhook_deliveries (
    id              text PRIMARY KEY CHECK (id ~ '^whd_[0-9A-Za-z]{20}$'),
    tenant_id       text NOT NULL REFERENCES tenants (id),
    endpoint_id     text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        text NOT NULL REFERENCES events (id),
    subject_id      text NOT NULL,
    seq             bigint NOT NULL,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'succeeded', 'failed')),
    -- Attempts since the delivery was (re)scheduled: the retry schedule's position. Its
    -- retries end once `retrying_since` is older than the retry window; a redelivery starts
    -- both again.
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    retrying_since  timestamptz NOT NULL DEFAULT clock_timestamp(),
    next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_status     integer,
    last_error      text CHECK (length(last_error) <= 300),
    last_attempt_at timestamptz,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (endpoint_id, subject_id, seq)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_listing ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);

ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_deliveries
    USING (tenant_id = app_tenant() OR app_is_admin())
    WITH CHECK (tenant_id = app_tenant() OR app_is_admin());
GRANT SELECT, INSERT ON webhook_deliveries TO backhaul_app;
GRANT UPDATE (state, attempts, retrying_since, next_attempt_at, last_status, last_error, last_attempt_at,
              delivered_at)
    ON webhook_deliveries TO backhaul_app;

-- Every attempt: when, the answer's status (none when there was no answer), how long it took,
-- and what went wrong — a short, control-character-free excerpt, never a secret.
CREATE TABLE webhook_attempts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id),
    delivery_id text NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    status_code integer CHECK (status_code BETWEEN 100 AND 599),
    duration_ms integer NOT NULL CHECK (duration_ms >= 0),
    error       text CHECK (length(error) <= 300)
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

ALTER TABLE webhook_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_attempts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_attempts
    USING (tenant_id = app_tenant() OR app_is_admin())
    WITH CHECK (tenant_id = app_tenant() OR app_is_admin());
GRANT SELECT, INSERT ON webhook_attempts TO backhaul_app;
