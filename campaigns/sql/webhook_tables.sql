-- Provider events (one row per distinct event, no addresses) and the suppressions they cause.
CREATE SCHEMA IF NOT EXISTS campaigns;
CREATE TABLE IF NOT EXISTS campaigns.webhook_events (
    dedup_key VARCHAR PRIMARY KEY, sg_event_id VARCHAR, event VARCHAR NOT NULL, user_id VARCHAR,
    campaign_id VARCHAR, batch_key VARCHAR, sg_message_id VARCHAR, occurred_at TIMESTAMPTZ, received_at TIMESTAMPTZ NOT NULL);
CREATE TABLE IF NOT EXISTS campaigns.suppressions (
    user_id VARCHAR NOT NULL, reason VARCHAR NOT NULL, event VARCHAR NOT NULL, dedup_key VARCHAR NOT NULL,
    campaign_id VARCHAR, occurred_at TIMESTAMPTZ, recorded_at TIMESTAMPTZ NOT NULL);
