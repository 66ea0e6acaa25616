-- Tracking: every label's events (stored once per fingerprint, pushed or polled), the label's
-- state derived from them, the poll schedule of labels still moving, carrier push
-- subscriptions with their sealed secrets, and each API app's hourly call budget.

ALTER TABLE return_labels
    ADD COLUMN first_scan_at       timestamptz,
    ADD COLUMN delivered_at        timestamptz,
    ADD COLUMN tracking_updated_at timestamptz;
GRANT UPDATE (first_scan_at, delivered_at, tracking_updated_at) ON return_labels TO backhaul_app;

-- Pushed notifications name a tracking number, not a tenant.
CREATE INDEX return_labels_tracking_number ON return_labels (carrier, tracking_number);
CREATE INDEX return_labels_status ON return_labels (tenant_id, status, created_at DESC, id DESC);

CREATE TABLE tracking_events (
    id            text PRIMARY KEY CHECK (id ~ '^tev_[0-9A-Za-z]{20}$'),
    tenant_id     text NOT NULL REFERENCES tenants (id),
    label_id      text NOT NULL REFERENCES return_labels (id),
    -- `carrier::TrackingEvent::fingerprint`: the same scan pushed and polled is one row.
    fingerprint   text NOT NULL CHECK (length(fingerprint) BETWEEN 1 AND 64),
    at            timestamptz NOT NULL,
    status        text NOT NULL CHECK (status IN
                      ('created', 'in_transit', 'delivered', 'returned_to_sender', 'exception', 'voided')),
    carrier_code  text NOT NULL,
    description   text NOT NULL,
    location      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(location) = 'object'),
    source        text NOT NULL CHECK (source IN ('poll', 'push')),
    received_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (label_id, fingerprint)
);
CREATE INDEX tracking_events_label ON tracking_events (label_id, at, id);

ALTER TABLE tracking_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE tracking_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tracking_events
    USING (tenant_id = app_tenant() OR app_is_admin())
    WITH CHECK (tenant_id = app_tenant() OR app_is_admin());
GRANT SELECT, INSERT ON tracking_events TO backhaul_app;

-- One row per label still tracked. A worker claims due rows (`FOR UPDATE SKIP LOCKED`, then
-- `next_poll_at` pushed past a lease) and never holds a transaction across the carrier call.
-- The row goes when the label is delivered, returned, voided or unused for the carrier's limit.
CREATE TABLE tracking_jobs (
    label_id              text PRIMARY KEY REFERENCES return_labels (id),
    tenant_id             text NOT NULL REFERENCES tenants (id),
    shipper_account_id    text NOT NULL REFERENCES shipper_accounts (id),
    carrier               text NOT NULL,
    -- `carrier::Carrier::quota_app`: whose hourly budget the polls draw on.
    quota_app             text NOT NULL,
    next_poll_at          timestamptz NOT NULL,
    polls                 integer NOT NULL DEFAULT 0,
    last_polled_at        timestamptz,
    last_error            text,
    -- Label-scoped push (a subscription per tracking number): subscribed until, and when to
    -- subscribe again. NULL: not subscribed (yet, or the carrier refused it).
    push_subscribed_until timestamptz,
    next_subscribe_at     timestamptz,
    give_up_at            timestamptz NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tracking_jobs_due ON tracking_jobs (next_poll_at);
CREATE INDEX tracking_jobs_subscribe_due ON tracking_jobs (next_subscribe_at)
    WHERE next_subscribe_at IS NOT NULL;

ALTER TABLE tracking_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE tracking_jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tracking_jobs
    USING (tenant_id = app_tenant() OR app_is_admin())
    WITH CHECK (tenant_id = app_tenant() OR app_is_admin());
GRANT SELECT, INSERT, UPDATE, DELETE ON tracking_jobs TO backhaul_app;

-- Account-scoped push subscriptions (one per account), the secret the carrier signs with
-- sealed under its own data key like a cached carrier token.
CREATE TABLE tracking_subscriptions (
    id                      text PRIMARY KEY CHECK (id ~ '^tsub_[0-9A-Za-z]{20}$'),
    tenant_id               text NOT NULL REFERENCES tenants (id),
    shipper_account_id      text NOT NULL UNIQUE REFERENCES shipper_accounts (id),
    carrier                 text NOT NULL,
    carrier_subscription_id text,
    secret_sealed           bytea NOT NULL,
    data_key_wrapped        bytea NOT NULL,
    master_key_id           text NOT NULL,
    state                   text NOT NULL CHECK (state IN
                                ('pending', 'enabled', 'suspended', 'disabled', 'gone')),
    state_reason            text,
    expires_at              timestamptz,
    -- When the carrier's view is next read (and a suspension repaired); claimed like jobs.
    next_check_at           timestamptz NOT NULL DEFAULT now(),
    last_error              text,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    UNIQUE (carrier, carrier_subscription_id)
);
CREATE INDEX tracking_subscriptions_due ON tracking_subscriptions (next_check_at);
CREATE INDEX tracking_subscriptions_master_key ON tracking_subscriptions (master_key_id);

ALTER TABLE tracking_subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE tracking_subscriptions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tracking_subscriptions
    USING (tenant_id = app_tenant() OR app_is_admin())
    WITH CHECK (tenant_id = app_tenant() OR app_is_admin());
GRANT SELECT, INSERT, UPDATE ON tracking_subscriptions TO backhaul_app;

-- Calls made per API app per clock hour (an app is shared across tenants: platform-wide). The
-- poller reserves calls with one conditional upsert before calling, so any number of instances
-- stay within the budget together.
CREATE TABLE carrier_call_budgets (
    quota_app    text NOT NULL CHECK (length(quota_app) BETWEEN 1 AND 200),
    hour         timestamptz NOT NULL,
    calls        integer NOT NULL CHECK (calls >= 0),
    PRIMARY KEY (quota_app, hour)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON carrier_call_budgets TO backhaul_app;
