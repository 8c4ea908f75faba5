"""The operational store: campaign state (templates, approvals, plans, the outbox ledger, provider events,
suppressions, the audit trail) in a transactional database through SQLAlchemy, apart from the analytics
warehouse. A SQLite file by default; Postgres by URL when several processes or machines send."""
