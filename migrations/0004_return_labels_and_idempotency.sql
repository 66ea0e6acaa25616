-- Bought return labels with their image bytes, and the idempotency keys of label purchases.

CREATE TABLE return_labels (
    id                      text PRIMARY KEY CHECK (id ~ '^lbl_[0-9A-Za-z]{20}$'),
    tenant_id               text NOT NULL REFERENCES tenants (id),
    shipper_account_id      text NOT NULL REFERENCES shipper_accounts (id),
    carrier                 text NOT NULL,
    service                 text NOT NULL,
    selected_by             text NOT NULL CHECK (selected_by IN
                                ('explicit', 'selector', 'default', 'priority', 'only')),
    tracking_number         text NOT NULL,
    routing_code            text,
    postage_minor           bigint NOT NULL,
    currency                text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    zone                    text,
    to_address              jsonb,
    label_format            text NOT NULL,
    label_bytes             bytea,
    receipt_bytes           bytea,
    warnings                jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(warnings) = 'array'),
    idempotency_key         text NOT NULL,
    carrier_idempotency_key text,
    created_at              timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX return_labels_listing ON return_labels (tenant_id, created_at DESC, id DESC);
CREATE INDEX return_labels_account ON return_labels (shipper_account_id);

ALTER TABLE return_labels ENABLE ROW LEVEL SECURITY;
ALTER TABLE return_labels FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON return_labels
    USING (tenant_id = app_tenant() OR app_is_admin())
    WITH CHECK (tenant_id = app_tenant() OR app_is_admin());
GRANT SELECT, INSERT ON return_labels TO backhaul_app;

-- One row per (tenant, Idempotency-Key) of POST /v1/return-labels, recorded with a hash of
-- the request before anything else happens (Stripe semantics, Brandur's atomic phases).
CREATE TABLE idempotency_keys (
    tenant_id               text NOT NULL REFERENCES tenants (id),
    key                     text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash            bytea NOT NULL CHECK (length(request_hash) = 32),
    phase                   text NOT NULL CHECK (phase IN
                                ('started', 'carrier_called', 'outcome_unknown', 'finished')),
    locked_until            timestamptz,
    shipper_account_id      text REFERENCES shipper_accounts (id),
    carrier_idempotency_key text,
    response_status         integer,
    response_body           jsonb,
    return_label_id         text REFERENCES return_labels (id),
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (created_at);

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON idempotency_keys
    USING (tenant_id = app_tenant() OR app_is_admin())
    WITH CHECK (tenant_id = app_tenant() OR app_is_admin());
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO backhaul_app;
