-- The latest launch of each campaign.
SELECT campaign_id, plan_id, template_key, rule_version FROM campaigns.plans WHERE kind = 'launch'
QUALIFY row_number() OVER (PARTITION BY campaign_id ORDER BY planned_at DESC) = 1 ORDER BY campaign_id
