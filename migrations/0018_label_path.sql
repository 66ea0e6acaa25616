-- The label path at the database's limit.
--
-- 1. A presented API key is looked up in one round trip: `app_api_key` opens the lookup policy
--    (`backhaul.api_key_hash`, transaction-local) and reads the key in the same statement, run
--    outside any explicit transaction. Before, a lookup was BEGIN with the setting, the SELECT
--    and COMMIT: three round trips on every request. The function runs as its caller (not
--    SECURITY DEFINER), so row-level security still decides what it sees: the row whose hash
--    is presented, and nothing else.
CREATE FUNCTION app_api_key(presented_hash bytea)
RETURNS TABLE (id text, tenant_id text, kind text)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = public, pg_temp
AS $$
BEGIN
    PERFORM set_config('backhaul.api_key_hash', encode(presented_hash, 'hex'), true);
    RETURN QUERY
        SELECT k.id, k.tenant_id, k.kind FROM api_keys k
        WHERE k.secret_hash = presented_hash AND k.revoked_at IS NULL;
END
$$;
REVOKE ALL ON FUNCTION app_api_key(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_api_key(bytea) TO backhaul_app;

-- 2. Label documents are stored as they come, out of line and uncompressed: PDFs and PNGs are
--    compressed already, so pglz spent CPU on every purchase to save next to nothing (it was
--    the largest single function in the database's profile of the label path).
ALTER TABLE return_labels
    ALTER COLUMN label_bytes SET STORAGE EXTERNAL,
    ALTER COLUMN receipt_bytes SET STORAGE EXTERNAL,
    ALTER COLUMN qr_code_bytes SET STORAGE EXTERNAL;
