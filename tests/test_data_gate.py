"""DataGate's judgement on ExampleValidator output: message contents, fail vs warn, the report."""

import os

import pytest
from tensorflow_metadata.proto.v0 import anomalies_pb2

from components import data_gate


def write_anomalies(uri, split: str, anomalies: anomalies_pb2.Anomalies) -> None:
    os.makedirs(os.path.join(uri, f"Split-{split}"), exist_ok=True)
    with open(os.path.join(uri, f"Split-{split}", "SchemaDiff.pb"), "wb") as handle:
        handle.write(anomalies.SerializeToString())


def unseen_island() -> anomalies_pb2.Anomalies:
    anomalies = anomalies_pb2.Anomalies()
    info = anomalies.anomaly_info["island"]
    info.reason.add(
        type=anomalies_pb2.AnomalyInfo.ENUM_TYPE_UNEXPECTED_STRING_VALUES,
        short_description="Unexpected string values",
        description="Examples contain values missing from the schema: Atlantis (<1%).",
    )
    return anomalies


def test_clean_splits_pass_and_say_so(tmp_path):
    for split in ("train", "eval"):
        write_anomalies(tmp_path / "a", split, anomalies_pb2.Anomalies())
    lines = data_gate.check(
        str(tmp_path / "a"), ["train", "eval"], "d.csv", "s.pbtxt", "fail", str(tmp_path / "r")
    )
    assert lines == []
    assert (tmp_path / "r" / data_gate.REPORT_FILE).read_text() == "no anomalies\n"


def test_fail_mode_names_file_split_column_and_kind(tmp_path):
    write_anomalies(tmp_path / "a", "train", anomalies_pb2.Anomalies())
    write_anomalies(tmp_path / "a", "eval", unseen_island())
    with pytest.raises(data_gate.BadDataError) as raised:
        data_gate.check(
            str(tmp_path / "a"),
            ["train", "eval"],
            "/data/new.csv",
            "the schema s.pbtxt",
            "fail",
            str(tmp_path / "r"),
        )
    message = str(raised.value)
    assert message.startswith("bad data in /data/new.csv (checked against the schema s.pbtxt):")
    assert (
        "split eval, column 'island': Unexpected string values (Examples contain values missing"
        in message
    )
    assert "Atlantis" in message and "split train" not in message
    assert (tmp_path / "r" / data_gate.REPORT_FILE).read_text().strip() == message


def test_warn_mode_reports_and_goes_on_and_keeps_no_schema_from_that_data(tmp_path):
    write_anomalies(tmp_path / "a", "eval", unseen_island())
    lines = data_gate.check(
        str(tmp_path / "a"), ["eval"], "d.csv", "s", "warn", str(tmp_path / "r")
    )
    assert len(lines) == 2 and "island" in lines[1]
    # the schema inferred from that data is not kept for later runs; from clean data it is
    schema_dir = tmp_path / "schema"
    schema_dir.mkdir()
    (schema_dir / "schema.pbtxt").write_text('feature { name: "island" type: BYTES }\n')
    kept = tmp_path / "kept" / "schema.pbtxt"
    assert not data_gate.keep(str(schema_dir), str(kept), lines)
    assert not kept.exists()
    assert data_gate.keep(str(schema_dir), str(kept), [])
    assert kept.read_text() == (schema_dir / "schema.pbtxt").read_text()


def test_missing_split_data_is_reported(tmp_path):
    write_anomalies(tmp_path / "a", "eval", anomalies_pb2.Anomalies(data_missing=True))
    with pytest.raises(data_gate.BadDataError, match="split eval: no rows at all"):
        data_gate.check(str(tmp_path / "a"), ["eval"], "d.csv", "s", "fail", str(tmp_path / "r"))


def test_unknown_mode_is_refused(tmp_path):
    with pytest.raises(ValueError, match="on_anomaly must be one of"):
        data_gate.check(str(tmp_path), [], "d.csv", "s", "ignore", str(tmp_path / "r"))
