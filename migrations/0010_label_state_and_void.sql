-- What a label is now, and what the carrier calls it: the carrier's own shipment id (for voids,
-- where it is not the tracking number), how the label reached the customer, and its state.
-- Only `status` and `voided_at` ever change after the label is stored.
ALTER TABLE return_labels
    ADD COLUMN carrier_reference text,
    ADD COLUMN label_delivery    text NOT NULL DEFAULT 'download'
        CHECK (label_delivery IN ('download', 'email', 'qr_code')),
    ADD COLUMN status            text NOT NULL DEFAULT 'created'
        CHECK (status IN ('created', 'in_transit', 'delivered', 'returned_to_sender', 'exception', 'voided')),
    ADD COLUMN voided_at         timestamptz,
    ADD CONSTRAINT return_labels_voided_at CHECK ((status = 'voided') = (voided_at IS NOT NULL));

GRANT UPDATE (status, voided_at) ON return_labels TO backhaul_app;
