-- Printerless labels (`label_delivery: qr_code`, a label broker's): the code the customer
-- shows at the carrier's counter, which prints the label there — the carrier's id of the stored
-- label (typed at the counter instead of scanning) and the QR code as a PNG. Both or neither.
-- The PNG stays off the listing query, like the label's bytes (its id says it exists).
ALTER TABLE return_labels
    ADD COLUMN qr_code_id    text CHECK (qr_code_id ~ '^[A-Za-z0-9-]{1,64}$'),
    ADD COLUMN qr_code_bytes bytea,
    ADD CONSTRAINT return_labels_qr_code CHECK ((qr_code_id IS NULL) = (qr_code_bytes IS NULL));
