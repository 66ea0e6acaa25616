-- What a label costs beyond its base postage (API.md, "Return labels — additions"): the fees
-- the carrier charged on top of `postage_minor` (extra services, surcharges) and the total,
-- both in the label's `currency`.
--
-- `fees` is the API's list as answered: `[{"code", "name", "amount": {"amount", "currency"}}]`.
-- `total_minor` is NULL only for labels stored before this migration, whose carrier answer was
-- kept as one amount: their total is their postage and they have no fees (readers use
-- `COALESCE(total_minor, postage_minor)`). Neither ever changes once the label is stored.
ALTER TABLE return_labels
    ADD COLUMN fees        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(fees) = 'array'),
    ADD COLUMN total_minor bigint;
