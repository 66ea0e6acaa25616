-- No per-tenant lock on the label path.
--
-- A foreign key is checked by locking the row it refers to (`SELECT … FOR KEY SHARE`). A label
-- wrote nine rows that referred to its tenant's row or its account's row (the label, its
-- idempotency key, its tracking job, its outbox event and webhook deliveries, two audit
-- events), so every concurrent purchase of a tenant share-locked the same two rows: Postgres
-- records several lockers of one row in a multixact, created and read back on every check. On
-- this machine, 16 connections inserting rows that refer to one parent ran 50–70 % more
-- transactions per second without the key (pgbench, three inserts per transaction).
--
-- Those keys go. What they checked still holds, by construction and by the triggers below:
--
-- - a child row's `tenant_id` is its transaction's tenant (row-level security's WITH CHECK:
--   `app_tenant()`, set from an API key, whose own key to `tenants` stays) or, in an admin
--   transaction, the id of a tenant row just read;
-- - its `shipper_account_id` is an account the same transaction (or the label's first one)
--   read from `shipper_accounts`;
-- - neither parent is ever deleted or renumbered: the app role has no DELETE on them, and the
--   triggers below refuse the owner too (DELETE, TRUNCATE, a changed id).
--
-- Kept: the keys to rows written in the same transaction (`idempotency_keys.return_label_id`,
-- `tracking_jobs.label_id`, `webhook_deliveries.event_id`: no other transaction holds those
-- rows, so no multixact), the keys on tables off the label path, and
-- `webhook_deliveries.endpoint_id`, whose ON DELETE CASCADE removes a deleted endpoint's
-- deliveries.

ALTER TABLE return_labels
    DROP CONSTRAINT return_labels_tenant_id_fkey,
    DROP CONSTRAINT return_labels_shipper_account_id_fkey;
ALTER TABLE idempotency_keys
    DROP CONSTRAINT idempotency_keys_tenant_id_fkey,
    DROP CONSTRAINT idempotency_keys_shipper_account_id_fkey;
ALTER TABLE tracking_jobs
    DROP CONSTRAINT tracking_jobs_tenant_id_fkey,
    DROP CONSTRAINT tracking_jobs_shipper_account_id_fkey;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_tenant_id_fkey;
ALTER TABLE events DROP CONSTRAINT events_tenant_id_fkey;
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_tenant_id_fkey;

CREATE FUNCTION parent_rows_are_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are never deleted and never change id (% refused): labels, keys, events and audit rows refer to them without a foreign key',
        TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER tenants_are_kept
    BEFORE DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION parent_rows_are_kept();
CREATE TRIGGER tenant_ids_are_kept
    BEFORE UPDATE OF id ON tenants
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION parent_rows_are_kept();
CREATE TRIGGER tenants_are_not_truncated
    BEFORE TRUNCATE ON tenants
    FOR EACH STATEMENT EXECUTE FUNCTION parent_rows_are_kept();

CREATE TRIGGER shipper_accounts_are_kept
    BEFORE DELETE ON shipper_accounts
    FOR EACH ROW EXECUTE FUNCTION parent_rows_are_kept();
CREATE TRIGGER shipper_account_ids_are_kept
    BEFORE UPDATE OF id ON shipper_accounts
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION parent_rows_are_kept();
CREATE TRIGGER shipper_accounts_are_not_truncated
    BEFORE TRUNCATE ON shipper_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION parent_rows_are_kept();
