"""The stateful side of sending: plan records, the outbox ledger, SendGrid e-mail, SMS/push vendor files,
and provider (webhook) events that feed suppressions and resolve unknown batches. State lives in the
warehouse (schema `campaigns`).
"""
