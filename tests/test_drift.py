"""Drift (components/drift.py): a comparator per column and the distances TFDV measured, read back."""

from tensorflow_metadata.proto.v0 import anomalies_pb2

from components.drift import measurements, validator_config


def test_numeric_columns_get_a_jensen_shannon_bar_and_the_others_an_l_infinity_bar():
    config = validator_config(["bill", "island"], ["bill"], max_jsd=0.1, max_linf=0.25)
    features = {
        ".".join(f.path.step): f.distribution_comparator
        for f in config.default_slice_config.feature
    }
    assert set(features) == {"bill", "island"}
    assert features["bill"].jensen_shannon_divergence.threshold == 0.1
    assert not features["bill"].HasField("infinity_norm")
    assert features["island"].infinity_norm.threshold == 0.25
    assert not features["island"].HasField("jensen_shannon_divergence")


def test_measurements_give_each_columns_distance_and_its_bar():
    anomalies = anomalies_pb2.Anomalies()
    info = anomalies.drift_skew_info.add()
    info.path.step.append("bill")
    measured = info.drift_measurements.add()
    measured.type = anomalies_pb2.DriftSkewInfo.Measurement.JENSEN_SHANNON_DIVERGENCE
    measured.value, measured.threshold = 0.4, 0.1
    assert measurements(anomalies) == {
        "bill": {"jensen_shannon_divergence": 0.4, "jensen_shannon_divergence_threshold": 0.1}
    }
    assert measurements(anomalies_pb2.Anomalies()) == {}
