-- Sends of every campaign from the outbox ledger, for frequency caps (no contact details).
SELECT r.user_id, o.campaign_id, o.state, o.updated_at AS sent_at, o.send_instant AS scheduled_for
FROM campaigns.outbox_recipients r JOIN campaigns.outbox o USING (campaign_id, batch_id)
WHERE r.skipped_reason IS NULL
