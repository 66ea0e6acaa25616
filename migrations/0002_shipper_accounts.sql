-- Merchants' carrier accounts. `details` holds the carrier-specific, non-secret details the
-- carrier plugin validated (so a new carrier needs no migration); everything secret is in
-- `credentials_sealed`, AES-256-GCM under the account's own data key, which is stored wrapped
-- under the master key named in `master_key_id`.

CREATE TABLE shipper_accounts (
    id                     text PRIMARY KEY CHECK (id ~ '^sa_[0-9A-Za-z]{20}$'),
    tenant_id              text NOT NULL REFERENCES tenants (id),
    carrier                text NOT NULL CHECK (carrier ~ '^[a-z0-9]{1,32}$'),
    name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    status                 text NOT NULL CHECK (status IN
                               ('active', 'pending_details', 'reauthorization_required', 'disabled')),
    is_default             boolean NOT NULL DEFAULT false,
    priority               integer NOT NULL DEFAULT 0,
    tags                   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(tags) = 'object'),
    details                jsonb NOT NULL CHECK (jsonb_typeof(details) = 'object'),
    credentials_mode       text NOT NULL,
    credentials_public     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(credentials_public) = 'object'),
    credentials_sealed     bytea NOT NULL,
    data_key_wrapped       bytea NOT NULL,
    master_key_id          text NOT NULL,
    credential_fingerprint text NOT NULL CHECK (credential_fingerprint ~ '^sha256:[0-9a-f]{32}$'),
    credentials_updated_at timestamptz NOT NULL DEFAULT now(),
    last_used_at           timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    -- A disabled account is never the default.
    CHECK (NOT (is_default AND status = 'disabled'))
);

-- At most one default account per tenant and carrier.
CREATE UNIQUE INDEX shipper_accounts_one_default
    ON shipper_accounts (tenant_id, carrier) WHERE is_default;
CREATE INDEX shipper_accounts_selection
    ON shipper_accounts (tenant_id, carrier, status, priority, created_at);
CREATE INDEX shipper_accounts_tags ON shipper_accounts USING gin (tags jsonb_path_ops);
CREATE INDEX shipper_accounts_master_key ON shipper_accounts (master_key_id);

ALTER TABLE shipper_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE shipper_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON shipper_accounts
    USING (tenant_id = app_tenant() OR app_is_admin())
    WITH CHECK (tenant_id = app_tenant() OR app_is_admin());
GRANT SELECT, INSERT, UPDATE ON shipper_accounts TO backhaul_app;
