"""SMS and push: vendor files through the outbox ledger, exactly once per person; SMS templates and lint."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from campaigns import TemplateFileError, load_template, template_path
from campaigns.delivery.sendgrid_email import SenderConfig, deliver
from campaigns.delivery.vendor_export import batch_file, export_batches
from campaigns.content.copy_lint import lint_template
from tests.campaigns.conftest import ContactWarehouse, make_template, store_execute, store_rows
from tests.campaigns.sendgrid_server import TEST_KEY, FakeSendGrid


@pytest.fixture
def contacts(tmp_path) -> ContactWarehouse:
    return ContactWarehouse(tmp_path / "contacts.duckdb", (
        "SELECT 'u' || lpad(i::VARCHAR, 4, '0') AS user_id, 'u' || lpad(i::VARCHAR, 4, '0') || '@mail.example.cn' AS email, "
        "CASE WHEN i % 10 = 9 THEN NULL ELSE '1380000' || lpad(i::VARCHAR, 4, '0') END AS phone FROM range(500) t(i)"))


@pytest.fixture
def conn(op_store, contacts):
    """The campaign store and the contact book, as one pair."""
    return op_store, contacts


@pytest.fixture
def sms():
    return load_template(template_path("wealth_welcome_sms", 1))


def _people(ids) -> pl.DataFrame:
    return pl.DataFrame({"user_id": list(ids)}, schema={"user_id": pl.String})


def _export(conn, sms, people, out: Path, live=True, **kwargs):
    store, contacts = conn
    return export_batches(store, contacts.book, campaign_id="sms1", channel="sms", template=sms, eligible=people,
                          out_dir=out, actor="mei", live=live, batch_size=120, **kwargs)


def _exported(out: Path) -> pl.DataFrame:
    files = sorted((out / "sms1").glob("*.csv"))
    return pl.concat([pl.read_csv(f, schema_overrides={"phone": pl.String}) for f in files]) if files else pl.DataFrame()


def test_sms_export_is_exactly_once_across_launches(conn, sms, tmp_path) -> None:
    ids = [f"u{i:04d}" for i in range(300)]
    dry = _export(conn, sms, _people(ids), tmp_path, live=False)
    assert dry.recipients_planned == 300 and not (tmp_path / "sms1").exists()
    first = _export(conn, sms, _people(ids), tmp_path)
    rows = _exported(tmp_path)
    with_phone = [u for u in ids if not u.endswith("9")]
    assert sorted(rows.get_column("member_ref").to_list()) == with_phone
    assert first.recipients_accepted == len(with_phone) and first.skipped == {"no_phone": 300 - len(with_phone)}
    assert set(rows.columns) >= {"member_ref", "phone", "text", "campaign_id", "batch_id", "batch_key", "variant"}
    assert rows.get_column("text").str.starts_with("【示例数字金融】").all()
    assert rows.get_column("text").str.contains("退订").all()
    assert dict(store_rows(conn[0], "SELECT state, count(*) FROM outbox GROUP BY 1")) == {"exported": 3}
    # A second launch (even with more people eligible now) writes nothing and nobody twice.
    second = _export(conn, sms, _people([*ids, "u0400", "u0401"]), tmp_path)
    again = _exported(tmp_path)
    assert again.height == rows.height and again.get_column("member_ref").n_unique() == again.height
    assert second.recipients_accepted == first.recipients_accepted
    # No phone number reaches a table of the campaign store.
    stored = " ".join(str(r) for table in ("outbox", "outbox_recipients", "audit_log")
                      for r in store_rows(conn[0], f"SELECT * FROM {table}"))
    assert "1380000" not in stored


def test_interrupted_export_is_resumed_without_a_second_file(conn, sms, tmp_path) -> None:
    ids = [f"u{i:04d}" for i in range(300)]
    _export(conn, sms, _people(ids), tmp_path)
    before = _exported(tmp_path)
    # Batch 00000 crashed after its file was renamed into place; batch 00001 crashed before writing.
    store_execute(conn[0], "UPDATE outbox SET state = 'sending' WHERE batch_id IN ('00000', '00001')")
    lost = batch_file(tmp_path / "sms1", "sms1", "00001")
    lost.unlink()
    stamp = batch_file(tmp_path / "sms1", "sms1", "00000").stat().st_mtime_ns
    _export(conn, sms, _people(ids), tmp_path)
    assert batch_file(tmp_path / "sms1", "sms1", "00000").stat().st_mtime_ns == stamp  # not rewritten
    assert lost.exists()
    after = _exported(tmp_path)
    assert sorted(after.get_column("member_ref").to_list()) == sorted(before.get_column("member_ref").to_list())
    assert dict(store_rows(conn[0], "SELECT state, count(*) FROM outbox GROUP BY 1")) == {"exported": 3}


def test_people_no_longer_eligible_are_skipped_and_push_without_tokens_exports_nobody(conn, tmp_path) -> None:
    push = make_template(template_id="push_note", channel="push", subject="理财上新", html_body=None,
                         is_personalized=False, placeholders=[],
                         text_body="示例数字金融服务有限公司：R2理财产品上新。理财非存款、产品有风险、投资须谨慎。")
    store, contacts = conn
    report = export_batches(store, contacts.book, campaign_id="push1", channel="push", template=push,
                            eligible=_people(["u0001"]), out_dir=tmp_path, actor="mei", live=True)
    assert report.recipients_accepted == 0 and report.skipped == {"no_push_token": 1}
    # Once the contacts carry push tokens, a new campaign exports them with the push title.
    contacts.execute("ALTER TABLE private.user_contacts ADD COLUMN push_token VARCHAR")
    contacts.execute("UPDATE private.user_contacts SET push_token = 'tok-' || user_id WHERE user_id < 'u0003'")
    report = export_batches(store, contacts.book, campaign_id="push3", channel="push", template=push,
                            eligible=_people(["u0001", "u0002", "u0003"]), out_dir=tmp_path, actor="mei", live=True)
    assert report.recipients_accepted == 2 and report.skipped == {"no_push_token": 1}
    rows = pl.read_csv(batch_file(tmp_path / "push3", "push3", "00000"))
    assert rows.get_column("push_token").to_list() == ["tok-u0001", "tok-u0002"]
    assert rows.get_column("title").to_list() == ["理财上新"] * 2
    with pytest.raises(ValueError, match="channel 'push'"):
        export_batches(store, contacts.book, campaign_id="push2", channel="sms", template=push,
                       eligible=_people(["u0001"]), out_dir=tmp_path, actor="mei", live=True)


def test_later_launch_skips_people_who_became_ineligible(conn, sms, tmp_path) -> None:
    ids = [f"u{i:04d}" for i in range(200)]
    _export(conn, sms, _people(ids), tmp_path)
    # Pretend the second batch (u0120..u0199) was never written, then launch again after u0150.. withdrew consent.
    store_execute(conn[0], "UPDATE outbox SET state = 'planned' WHERE batch_id = '00001'")
    store_execute(conn[0], "UPDATE outbox_recipients SET skipped_reason = NULL WHERE batch_id = '00001'")
    batch_file(tmp_path / "sms1", "sms1", "00001").unlink()
    report = _export(conn, sms, _people(ids[:150]), tmp_path)
    rows = _exported(tmp_path)
    assert not set(rows.get_column("member_ref").to_list()) & set(ids[150:])
    assert report.skipped["no_longer_eligible"] == 50


def test_sms_template_is_plain_text_and_linted_for_signature_and_opt_out() -> None:
    shipped = load_template(template_path("wealth_welcome_sms", 1))
    assert shipped.html_body == "" and lint_template(shipped).passed
    unsigned = make_template(template_id="bad_sms", channel="sms", subject=None, html_body=None, placeholders=[],
                             is_personalized=False, text_body=shipped.text_body.replace("【示例数字金融】", "")
                             .replace("回复TD退订", ""))
    rules = {f.rule_id for f in lint_template(unsigned).blocking}
    assert {"CN-SMS-01", "CN-SMS-02"} <= rules and "CN-EM-02" not in rules
    with pytest.raises(TemplateFileError, match="html_body"):
        make_template(template_id="bad_sms", channel="sms", placeholders=[], is_personalized=False,
                      text_body=shipped.text_body)


def test_email_variants_are_batched_per_variant_and_rendered_with_their_template(conn, monkeypatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    arms = {"A": load_template(template_path("wealth_welcome", 1)), "B": load_template(template_path("wealth_welcome", 2))}
    ids = [f"u{i:04d}" for i in range(300)]
    eligible = _people(ids).with_columns(
        pl.when(pl.col("user_id").str.slice(-1).cast(pl.Int32) < 7).then(pl.lit("A")).otherwise(pl.lit("B"))
        .alias("variant"))
    fake = FakeSendGrid().start()
    try:
        config = SenderConfig("marketing@example.com", "示例数字金融", 101, host=fake.base_url, batch_size=100,
                              timeout_seconds=2)
        report = deliver(conn[0], conn[1].book, campaign_id="ab1", template=arms["A"], eligible=eligible, config=config,
                         actor="mei", api_key=TEST_KEY, live=True, sleep=lambda s: None, variant_templates=arms)
        assert report.recipients_accepted == 300
        by_subject: dict[str, set[str]] = {}
        for request in fake.accepted:
            subjects = {p["subject"] for p in request.body["personalizations"]}
            assert len(subjects) == 1  # one variant per request
            by_subject.setdefault(subjects.pop(), set()).update(p["custom_args"]["member_ref"]
                                                                for p in request.body["personalizations"])
    finally:
        fake.stop()
    expected = dict(eligible.group_by("variant").agg(pl.col("user_id")).iter_rows())
    assert by_subject == {arms["A"].subject: set(expected["A"]), arms["B"].subject: set(expected["B"])}
    variants = dict(store_rows(conn[0], "SELECT variant, sum(member_count) FROM outbox GROUP BY 1"))
    assert variants == {"A": len(expected["A"]), "B": len(expected["B"])}
