-- A resumed label purchase reports how its account was first chosen.
ALTER TABLE idempotency_keys ADD COLUMN selected_by text
    CHECK (selected_by IN ('explicit', 'selector', 'default', 'priority', 'only'));

-- What the carrier offered when the merchant signed in ("Login with USPS"): the choices shown
-- on the details form (CRIDs, MIDs, masked EPS accounts, permits). Never secret.
ALTER TABLE shipper_accounts ADD COLUMN onboarding jsonb
    CHECK (onboarding IS NULL OR jsonb_typeof(onboarding) = 'object');
