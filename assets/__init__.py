"""What exists: every warehouse table as a Dagster asset, in data-flow order.

Each module declares the tables of one concern (`WarehouseTable`, in `assets.tables`) beside the step
that writes them; the step reads its inputs, calls one function of the domain package that owns the
concern, and writes the tables it declares. `pipelines/` wires these into Definitions and jobs.
"""
