-- Outbox batches of one campaign left `unknown` for which a stored provider event carries the batch key,
-- with the first such event's kind as evidence that SendGrid accepted the batch.
SELECT o.batch_id, arg_min(e.event, e.received_at) AS evidence
FROM campaigns.outbox o JOIN campaigns.webhook_events e ON e.campaign_id = o.campaign_id AND e.batch_key = o.batch_key
WHERE o.campaign_id = $campaign_id AND o.state = 'unknown'
GROUP BY o.batch_id ORDER BY o.batch_id
