-- People per campaign and provider event (unsubscribes and spam reports counted together).
SELECT campaign_id, CASE WHEN event IN ('group_unsubscribe', 'spamreport') THEN 'unsubscribe' ELSE event END AS event,
       count(DISTINCT user_id)::BIGINT AS people
FROM campaigns.webhook_events WHERE campaign_id IS NOT NULL AND user_id IS NOT NULL GROUP BY ALL
