"""Who may be sent what: pure per-recipient rules, consent state, decisions, holdout and variant groups,
the audience funnel and the dry run. Frames in, frames out; no warehouse, no network.
"""
