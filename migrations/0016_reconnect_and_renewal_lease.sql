-- Issue 14: who started a sign-in, re-authorization in place, and renewals that hold a lease
-- instead of a row lock across the carrier's HTTP call.

-- The audit actor of a sign-in's callback is whoever started it (the API key, or the key of
-- the console session), not `system`: stored as `audit_events.actor` stores it.
-- `account_id` is set when the sign-in re-authorizes an existing account
-- (`POST /v1/shipper-accounts/{id}/reconnect`) instead of creating one.
ALTER TABLE oauth_states
    ADD COLUMN started_by text NOT NULL DEFAULT 'system',
    ADD COLUMN account_id text REFERENCES shipper_accounts (id);

-- A renewal of an account's OAuth tokens takes a short lease (`renewal_lease_until`) in its own
-- transaction, calls the carrier with no transaction open, and stores what it got only if its
-- fence (`renewal_fence`, bumped by every lease and every credentials change) still stands. A
-- second renewer waits for the lease to clear (or expire, if its holder died) and reads what
-- was stored; a credentials PATCH during a lease answers 409.
ALTER TABLE shipper_accounts
    ADD COLUMN renewal_lease_until timestamptz,
    ADD COLUMN renewal_fence bigint NOT NULL DEFAULT 0;
