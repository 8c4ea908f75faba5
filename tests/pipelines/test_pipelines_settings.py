"""Settings from the environment: defaults, parsing, and clear errors."""

from datetime import date
from pathlib import Path

import pytest

from pipelines.settings import Settings


def test_defaults_without_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no config/targets.yaml here
    settings = Settings.from_env({})
    assert settings.as_of is None and settings.targets is None
    assert settings.conversion == "first_transaction" and settings.attribution_lookback_days == 30


def test_values_are_read_and_typed(tmp_path):
    targets = tmp_path / "t.yaml"
    targets.write_text("targets:\n  cac: 10\n")
    settings = Settings.from_env({
        "FINGROWTH_AS_OF": "2026-03-31", "FINGROWTH_CONVERSION": "first_wealth", "FINGROWTH_HOLDOUT_WEEKS": "13",
        "FINGROWTH_ATTRIBUTION_LOOKBACK_DAYS": "14", "FINGROWTH_TARGETS": str(targets), "FINGROWTH_LANGUAGE": "zh",
    })
    assert settings.as_of == date(2026, 3, 31) and settings.conversion == "first_wealth"
    assert settings.holdout_weeks == 13 and settings.attribution_lookback_days == 14
    assert settings.targets == targets and settings.language == "zh"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"FINGROWTH_CONVERSION": "first_loan"}, "conversion must be one of"),
        ({"FINGROWTH_HOLDOUT_WEEKS": "0"}, "FINGROWTH_HOLDOUT_WEEKS"),
        ({"FINGROWTH_AS_OF": "31/03/2026"}, "YYYY-MM-DD"),
        ({"FINGROWTH_LANGUAGE": "fr"}, "language"),
        ({"FINGROWTH_TARGETS": "no/such/targets.yaml"}, "targets file"),
    ],
)
def test_bad_values_are_named(environ, message):
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        Settings.from_env(environ)


def test_every_setting_is_documented():
    """Each environment variable appears in a settings table of the README or docs/campaigns.md."""
    root = Path(__file__).resolve().parents[2]
    documented = (root / "README.md").read_text(encoding="utf-8") + (root / "docs" / "campaigns.md").read_text(
        encoding="utf-8")
    missing = [variable for variables in Settings.environment_variables().values() for variable in variables
               if f"`{variable}`" not in documented]
    assert missing == []


def test_secrets_never_show_in_the_settings_repr():
    settings = Settings.from_env({"SENDGRID_API_KEY": "SG.very-secret", "FINGROWTH_SENDGRID_WEBHOOK_PUBLIC_KEY": "MFkw"})
    assert "very-secret" not in repr(settings) and "MFkw" not in repr(settings)
    assert settings.sendgrid_key() == "SG.very-secret"
