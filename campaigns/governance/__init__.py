"""Audit and access: roles and permissions, the hash-chained audit trail, and maker-checker template approval."""
