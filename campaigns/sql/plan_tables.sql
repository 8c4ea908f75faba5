-- Plans and launches: one row per run (grain: plan_id), one row per plan_id × audience member.
CREATE SCHEMA IF NOT EXISTS campaigns;
CREATE TABLE IF NOT EXISTS campaigns.plans (
    plan_id VARCHAR PRIMARY KEY, campaign_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, actor VARCHAR NOT NULL,
    planned_at TIMESTAMPTZ NOT NULL, as_of TIMESTAMPTZ NOT NULL, template_key VARCHAR NOT NULL,
    content_sha256 VARCHAR NOT NULL, rule_version VARCHAR NOT NULL, audience_sha256 VARCHAR NOT NULL,
    counts_json VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS campaigns.plan_decisions (
    plan_id VARCHAR NOT NULL, campaign_id VARCHAR NOT NULL, user_id VARCHAR NOT NULL, decision VARCHAR NOT NULL,
    reason_codes VARCHAR NOT NULL, rule_version VARCHAR NOT NULL, as_of TIMESTAMPTZ NOT NULL);
ALTER TABLE campaigns.plans ADD COLUMN IF NOT EXISTS send_at TIMESTAMPTZ;
ALTER TABLE campaigns.plan_decisions ADD COLUMN IF NOT EXISTS variant VARCHAR;
ALTER TABLE campaigns.plan_decisions ADD COLUMN IF NOT EXISTS send_at TIMESTAMPTZ;
