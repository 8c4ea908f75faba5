-- The hash-chained audit trail: one row per action, each row hashing its predecessor's hash.
CREATE SCHEMA IF NOT EXISTS campaigns;
CREATE SEQUENCE IF NOT EXISTS campaigns.audit_seq;
CREATE TABLE IF NOT EXISTS campaigns.audit_log (
    seq BIGINT NOT NULL, logged_at TIMESTAMPTZ NOT NULL, actor VARCHAR NOT NULL, action VARCHAR NOT NULL,
    subject VARCHAR NOT NULL, details_json VARCHAR NOT NULL, prev_sha256 VARCHAR NOT NULL, row_sha256 VARCHAR NOT NULL);
