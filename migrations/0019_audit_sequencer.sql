-- The audit chain off the request path: an event is written without its hash, in the
-- transaction of the change it describes, and a sequencer chains the waiting events in
-- batches, within a bounded delay (the way a Certificate Transparency log integrates queued
-- entries under its maximum merge delay). Before, every event moved its chain's head in the
-- writer's transaction, so a tenant's writers queued on one row lock and each label paid for
-- a hash in SQL.
--
-- - `chain_seq` is an event's place in its chain (1, 2, …), `chained_at` when the sequencer
--   linked it; `prev_hash`, `hash`, `chain_seq` and `chained_at` are all set or all null.
-- - The sequencer runs in an admin transaction under an advisory lock (one leader across any
--   number of instances). It is the only writer of `audit_chain_heads` (which now also keeps
--   the chain's last `seq`) and the only one allowed to UPDATE an event, and then only to
--   chain it: the trigger refuses any other UPDATE, every DELETE and TRUNCATE.
-- - A chain's order is its `chain_seq` order (commit order, as the sequencer found the
--   events), no longer its id order; `audit verify` walks it that way and reports any event
--   left unchained past the maximum merge delay.
--
-- Deploying: stop instances running an older build before applying this migration. An older
-- build writes events already chained, which the insert policy now refuses.

ALTER TABLE audit_events
    ADD COLUMN chain_seq bigint CHECK (chain_seq > 0),
    ADD COLUMN chained_at timestamptz,
    ALTER COLUMN prev_hash DROP NOT NULL,
    ALTER COLUMN hash DROP NOT NULL,
    ADD CONSTRAINT audit_events_chained_all_or_none CHECK (
        (hash IS NULL) = (prev_hash IS NULL)
        AND (hash IS NULL) = (chain_seq IS NULL)
        AND (hash IS NULL) = (chained_at IS NULL));

-- Writers append unchained events; only an admin transaction (the sequencer) chains them.
DROP POLICY append ON audit_events;
CREATE POLICY append ON audit_events FOR INSERT
    WITH CHECK ((tenant_id = app_tenant() OR app_is_admin()) AND hash IS NULL);
CREATE POLICY chain ON audit_events FOR UPDATE
    USING (app_is_admin())
    WITH CHECK (app_is_admin());
GRANT UPDATE (prev_hash, hash, chain_seq, chained_at) ON audit_events TO backhaul_app;

-- The events written so far are chained already, in id order: they are numbered in place.
SELECT set_config('backhaul.scope', 'admin', true);
ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
UPDATE audit_events AS event
SET chain_seq = numbered.seq, chained_at = event.at
FROM (
    SELECT id, row_number() OVER (PARTITION BY coalesce(tenant_id, 'platform') ORDER BY id) AS seq
    FROM audit_events
) AS numbered
WHERE event.id = numbered.id;
ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;

-- One event per place in a chain (the platform's chain has no tenant, hence two indexes);
-- `audit verify` walks each chain through these.
CREATE UNIQUE INDEX audit_events_tenant_chain ON audit_events (tenant_id, chain_seq)
    WHERE tenant_id IS NOT NULL AND chain_seq IS NOT NULL;
CREATE UNIQUE INDEX audit_events_platform_chain ON audit_events (chain_seq)
    WHERE tenant_id IS NULL AND chain_seq IS NOT NULL;
-- What the sequencer looks for.
CREATE INDEX audit_events_unchained ON audit_events (id) WHERE hash IS NULL;

ALTER TABLE audit_chain_heads ADD COLUMN seq bigint NOT NULL DEFAULT 0 CHECK (seq >= 0);
UPDATE audit_chain_heads AS head
SET seq = counted.seq
FROM (
    SELECT coalesce(tenant_id, 'platform') AS chain, count(*) AS seq
    FROM audit_events GROUP BY 1
) AS counted
WHERE head.chain = counted.chain;

-- An UPDATE may only chain an event: set its null hash, with every column of the event as it
-- was written.
CREATE FUNCTION audit_events_may_only_be_chained() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND NEW.hash IS NOT NULL
       AND (NEW.id, NEW.tenant_id, NEW.at, NEW.actor, NEW.action, NEW.target, NEW.request_id, NEW.summary)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.tenant_id, OLD.at, OLD.actor, OLD.action, OLD.target, OLD.request_id, OLD.summary)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
DROP TRIGGER audit_events_append_only ON audit_events;
CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_may_only_be_chained();

-- A tenant may read its chain's head; only the sequencer moves heads.
DROP POLICY tenant_isolation ON audit_chain_heads;
CREATE POLICY tenant_isolation ON audit_chain_heads FOR SELECT
    USING (chain = app_tenant() OR app_is_admin());
CREATE POLICY sequencer ON audit_chain_heads
    USING (app_is_admin())
    WITH CHECK (app_is_admin());
GRANT UPDATE (seq) ON audit_chain_heads TO backhaul_app;
