-- The first launch of each campaign fixes who was treated and who was held out; resumes re-decide only
-- who may still be sent to.
SELECT d.campaign_id, d.user_id, d.decision, p.as_of AS decided_at
FROM campaigns.plan_decisions d
JOIN (SELECT campaign_id, arg_min(plan_id, planned_at) AS plan_id, min(as_of) AS as_of
      FROM campaigns.plans WHERE kind = 'launch' GROUP BY campaign_id) p USING (campaign_id, plan_id)
