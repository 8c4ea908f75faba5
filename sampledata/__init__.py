"""Seeded sample data in the landing contract, and a CDNOW converter."""

from sampledata.cdnow import write_cdnow_landing
from sampledata.generator import SampleDataSummary, generate_sample_data

__all__ = ["SampleDataSummary", "generate_sample_data", "write_cdnow_landing"]
