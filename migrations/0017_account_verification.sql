-- Issue 15: accounts connected by registration (the carrier is sent the merchant's account,
-- the merchant proves it is theirs in steps the carrier chooses, then the carrier issues
-- credentials; `carrier::RegistrationOnboarding`).
--
-- While the merchant proves it, the account is `pending_verification`: its sealed credentials
-- hold the carrier's state of the registration (never anything that can buy a label), and
-- `verification` the step shown to the merchant (`{step, message, form, expires_at}`, no
-- secret; cleared when the account becomes active). `verification_attempts` counts wrong proofs, reserved by one conditional UPDATE
-- before each carrier call so that concurrent answers cannot exceed the limit
-- (`carrier::MAX_PROOF_ATTEMPTS`); starting again resets it. Saves are fenced by
-- `renewal_fence`, as renewals are.
ALTER TABLE shipper_accounts DROP CONSTRAINT shipper_accounts_status_check;
ALTER TABLE shipper_accounts ADD CONSTRAINT shipper_accounts_status_check CHECK (status IN
    ('active', 'pending_details', 'pending_verification', 'reauthorization_required', 'disabled'));

ALTER TABLE shipper_accounts
    ADD COLUMN verification jsonb
        CHECK (verification IS NULL OR jsonb_typeof(verification) = 'object'),
    ADD COLUMN verification_attempts integer NOT NULL DEFAULT 0
        CHECK (verification_attempts >= 0),
    ADD CONSTRAINT shipper_accounts_verification_pending
        CHECK (status <> 'pending_verification' OR verification IS NOT NULL);
