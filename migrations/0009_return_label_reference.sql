-- The client's `reference` (an RMA number, an order id) is kept with the label and echoed in
-- every answer about it, so a returns SaaS can match a label to its return without a lookup
-- table of its own. Free text, checked at the API's edge (no control characters, at most 64
-- characters before a carrier's own limit).

ALTER TABLE return_labels ADD COLUMN reference text CHECK (length(reference) BETWEEN 1 AND 64);
