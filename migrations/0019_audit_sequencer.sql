-- The audit chain off the request path. An event is written in the transaction of the change
-- it describes, without its hash, and queued (`audit_pending`); a sequencer chains the queued
-- events in batches within a bounded delay, the way a Certificate Transparency log integrates
-- queued entries under its maximum merge delay. Before, every event moved its chain's head in
-- the writer's transaction, so a tenant's writers queued on one row lock.
--
-- - `audit_links` holds each chained event's place in its chain (`chain_seq` 1, 2, …), the
--   hash it follows, its own hash and when it was chained. It is append-only like the events
--   (which are never updated, so an event stays one tuple; chaining by UPDATE rewrote every
--   event and its five index entries). A link has no foreign key to its event: an event
--   removed by someone who disabled the trigger leaves its link, and `audit verify` names it.
-- - `audit_pending` is the queue: an AFTER INSERT trigger on `audit_events` adds every event,
--   whoever writes it; only the sequencer (an admin transaction) reads and deletes it.
-- - The sequencer holds an advisory lock (one leader across any number of instances) and is
--   the only writer of `audit_links` and `audit_chain_heads` (which now keeps the chain's last
--   `seq` too).
-- - A chain's order is its `chain_seq` order (commit order, as the sequencer found the
--   events), no longer id order; `audit verify` walks it that way, and reports any event left
--   unchained past the maximum merge delay.
--
-- Deploying: stop instances running an older build before applying this migration (an older
-- build writes the hash columns this migration moves to `audit_links`).

CREATE TABLE audit_links (
    event_id   bigint PRIMARY KEY,
    chain      text NOT NULL,
    chain_seq  bigint NOT NULL CHECK (chain_seq > 0),
    prev_hash  bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash       bytea NOT NULL CHECK (length(hash) = 32),
    chained_at timestamptz NOT NULL,
    UNIQUE (chain, chain_seq)
);

-- The events written so far were chained in id order: their links say so.
SELECT set_config('backhaul.scope', 'admin', true);
INSERT INTO audit_links (event_id, chain, chain_seq, prev_hash, hash, chained_at)
SELECT id, coalesce(tenant_id, 'platform'),
       row_number() OVER (PARTITION BY coalesce(tenant_id, 'platform') ORDER BY id),
       prev_hash, hash, at
FROM audit_events;
ALTER TABLE audit_events DROP COLUMN prev_hash, DROP COLUMN hash;

CREATE TRIGGER audit_links_append_only
    BEFORE UPDATE OR DELETE ON audit_links
    FOR EACH ROW EXECUTE FUNCTION audit_events_are_append_only();
CREATE TRIGGER audit_links_no_truncate
    BEFORE TRUNCATE ON audit_links
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_are_append_only();
ALTER TABLE audit_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_links FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_links FOR SELECT
    USING (chain = app_tenant() OR app_is_admin());
CREATE POLICY sequencer ON audit_links FOR INSERT
    WITH CHECK (app_is_admin());
GRANT SELECT, INSERT ON audit_links TO backhaul_app;

CREATE TABLE audit_pending (
    event_id bigint PRIMARY KEY
);
ALTER TABLE audit_pending ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_pending FORCE ROW LEVEL SECURITY;
-- Anyone who may write an event queues it (through the trigger); only the sequencer sees or
-- takes the queue. A row queued by hand for an event that does not exist, or is chained
-- already, is dropped by the sequencer.
CREATE POLICY queue ON audit_pending FOR INSERT WITH CHECK (true);
CREATE POLICY sequencer_reads ON audit_pending FOR SELECT USING (app_is_admin());
CREATE POLICY sequencer_takes ON audit_pending FOR DELETE USING (app_is_admin());
GRANT SELECT, INSERT, DELETE ON audit_pending TO backhaul_app;

CREATE FUNCTION audit_events_queue() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_pending (event_id) SELECT id FROM written;
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_events_queue
    AFTER INSERT ON audit_events
    REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_queue();

ALTER TABLE audit_chain_heads ADD COLUMN seq bigint NOT NULL DEFAULT 0 CHECK (seq >= 0);
UPDATE audit_chain_heads AS head
SET seq = counted.seq
FROM (SELECT chain, max(chain_seq) AS seq FROM audit_links GROUP BY chain) AS counted
WHERE head.chain = counted.chain;

-- A tenant may read its chain's head; only the sequencer moves heads.
DROP POLICY tenant_isolation ON audit_chain_heads;
CREATE POLICY tenant_isolation ON audit_chain_heads FOR SELECT
    USING (chain = app_tenant() OR app_is_admin());
CREATE POLICY sequencer ON audit_chain_heads
    USING (app_is_admin())
    WITH CHECK (app_is_admin());
GRANT UPDATE (seq) ON audit_chain_heads TO backhaul_app;
