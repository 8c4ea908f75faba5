-- The template registry (insert-only): one row per template version, one row per decision on a version.
CREATE SCHEMA IF NOT EXISTS campaigns;
CREATE TABLE IF NOT EXISTS campaigns.templates (
    template_id VARCHAR NOT NULL, version INTEGER NOT NULL, content_sha256 VARCHAR NOT NULL,
    jurisdiction VARCHAR, channel VARCHAR, product_type VARCHAR, definition_json VARCHAR NOT NULL,
    author VARCHAR NOT NULL, created_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (template_id, version));
CREATE TABLE IF NOT EXISTS campaigns.template_approvals (
    template_id VARCHAR NOT NULL, version INTEGER NOT NULL, content_sha256 VARCHAR NOT NULL,
    decision VARCHAR NOT NULL, actor VARCHAR NOT NULL, decided_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ, reason VARCHAR, lint_version VARCHAR, lint_findings_json VARCHAR);
