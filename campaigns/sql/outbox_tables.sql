-- The outbox ledger: one row per campaign × batch, one row per campaign × person (nobody in two batches).
CREATE SCHEMA IF NOT EXISTS campaigns;
CREATE TABLE IF NOT EXISTS campaigns.outbox (
    campaign_id VARCHAR NOT NULL, batch_id VARCHAR NOT NULL, batch_key VARCHAR NOT NULL,
    template_key VARCHAR NOT NULL, member_count INTEGER NOT NULL, members_sha256 VARCHAR NOT NULL,
    payload_sha256 VARCHAR, state VARCHAR NOT NULL, attempts INTEGER NOT NULL, x_message_id VARCHAR,
    last_status INTEGER, last_error VARCHAR, planned_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (campaign_id, batch_id));
CREATE TABLE IF NOT EXISTS campaigns.outbox_recipients (
    campaign_id VARCHAR NOT NULL, user_id VARCHAR NOT NULL, batch_id VARCHAR NOT NULL, skipped_reason VARCHAR,
    PRIMARY KEY (campaign_id, user_id));
ALTER TABLE campaigns.outbox ADD COLUMN IF NOT EXISTS variant VARCHAR;
ALTER TABLE campaigns.outbox ADD COLUMN IF NOT EXISTS send_instant TIMESTAMPTZ;
ALTER TABLE campaigns.outbox ADD COLUMN IF NOT EXISTS channel VARCHAR;
ALTER TABLE campaigns.outbox ADD COLUMN IF NOT EXISTS export_file VARCHAR;
