"""Seeded sample data in the landing contract, and a CDNOW converter.

`generate_sample_data` writes one entry per source, each in a different allowed format:
`users.csv` (UTF-8 with BOM, naive local timestamps), `transactions/date=YYYY-MM-DD/part-0.parquet`
(all-text columns, local-day partitions, "+08:00" timestamps), `events/date=YYYY-MM-DD/events.jsonl`
(UTC "Z" timestamps, partitioned by UTC day), `touchpoints.parquet`, `marketing_spend.csv`,
`consents.jsonl`, `products.csv` and `loan_performance.parquet` (typed: date, Decimal(18,2), int32).
The planted truth sits under `_truth/`, which the ingest skips.
"""

from sampledata.cdnow import write_cdnow_landing
from sampledata.generator import SampleDataSummary, generate_sample_data

__all__ = ["SampleDataSummary", "generate_sample_data", "write_cdnow_landing"]
