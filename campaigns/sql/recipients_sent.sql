-- People per campaign in batches SendGrid accepted or that were exported to a vendor file.
SELECT r.campaign_id, count(*) FILTER (WHERE o.state IN ('accepted', 'exported'))::BIGINT AS recipients_sent
FROM campaigns.outbox_recipients r JOIN campaigns.outbox o USING (campaign_id, batch_id)
WHERE r.skipped_reason IS NULL GROUP BY r.campaign_id
