"""The web console (`fingrowth console`): server-rendered pages on Starlette for marketers, compliance officers,
analysts and admins. Wiring only: every page calls the campaign service, which checks roles, maker-checker and
every rule, exactly as for the command line."""
