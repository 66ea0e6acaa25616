-- Where each audit chain ends. An event is appended by one statement that moves its chain's
-- head (the hash the next event must follow) and inserts the event with the old and new hash:
-- the head row's lock orders a chain's writers, and no append searches audit_events for the
-- chain's last event (a search whose plan depended on how the tenant's events were spread
-- through the table, and which cost an extra round trip under an advisory lock).
--
-- `chain` is the tenant's id, or 'platform' for the platform's own events. `audit verify`
-- still recomputes every chain from the events themselves; a head that was tampered with makes
-- the next event's link wrong, which it reports.
--
-- Deploying: stop instances running an older build before applying this migration. An older
-- build appends without moving the head, so the next event from a newer one would fork the
-- chain (which `audit verify` reports).

CREATE TABLE audit_chain_heads (
    chain     text PRIMARY KEY CHECK (chain = 'platform' OR chain ~ '^ten_[0-9A-Za-z]{20}$'),
    prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash      bytea NOT NULL CHECK (length(hash) = 32)
);

INSERT INTO audit_chain_heads (chain, prev_hash, hash)
SELECT DISTINCT ON (coalesce(tenant_id, 'platform')) coalesce(tenant_id, 'platform'), prev_hash, hash
FROM audit_events
ORDER BY coalesce(tenant_id, 'platform'), id DESC;

ALTER TABLE audit_chain_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_chain_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_chain_heads
    USING (chain = app_tenant() OR app_is_admin())
    WITH CHECK (chain = app_tenant() OR app_is_admin());
GRANT SELECT, INSERT, UPDATE (prev_hash, hash) ON audit_chain_heads TO backhaul_app;
