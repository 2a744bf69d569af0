"""Categories: a capped vocabulary, one OOV bucket, one-hot or embedded
(modules/kinds/categorical.py)."""

from modules import columns, names
from modules.columns import ColumnSpec
from modules.kinds import KINDS
from modules.kinds.categorical import cap
from tests.kind_runs import run_kind


def test_values_get_ids_by_frequency_and_unseen_values_share_the_oov_bucket():
    spec = ColumnSpec("Island name", columns.CATEGORICAL, encoding=columns.ONE_HOT)
    train = [[b"Biscoe"], [b"Dream"], [b"Biscoe"], [], [b" Dream "], [b"Biscoe"]]
    trained, output, served = run_kind(spec, train, served=[[b"Atlantis"], [b"Biscoe"], []])
    vocabulary = [v.decode() for v in output.vocabulary_by_name(names.vocabulary_name(spec.key))]
    assert vocabulary[:2] == ["Biscoe", "Dream"]  # stripped: " Dream " is Dream
    assert names.MISSING_CATEGORY in vocabulary
    ids = trained[spec.key].tolist()
    assert ids == [0, 1, 0, vocabulary.index(names.MISSING_CATEGORY), 1, 0]
    assert served[spec.key].tolist() == [
        len(vocabulary),
        0,
        vocabulary.index(names.MISSING_CATEGORY),
    ]
    assert KINDS[columns.CATEGORICAL].layout(spec, output).one_hot == {
        spec.key: len(vocabulary) + 1
    }


def test_a_category_with_many_values_keeps_only_the_most_frequent_and_is_embedded():
    spec = ColumnSpec("Zip Code", columns.CATEGORICAL, encoding=columns.EMBEDDING)
    assert cap(spec) == columns.CATEGORY_VOCABULARY
    assert (
        cap(ColumnSpec("x", columns.CATEGORICAL, encoding=columns.ONE_HOT)) == columns.ONE_HOT_MAX
    )
    train = [[f"Z{i % 300}".encode()] for i in range(900)]
    _, output, _ = run_kind(spec, train)
    part = KINDS[columns.CATEGORICAL].layout(spec, output)
    assert part.embedded == {spec.key: 301} and not part.one_hot


def test_a_one_hot_category_is_cut_at_its_cap():
    spec = ColumnSpec("c", columns.CATEGORICAL, encoding=columns.ONE_HOT)
    train = [
        [f"v{i}".encode()] * 1 for i in range(columns.ONE_HOT_MAX * 2) for _ in range(i % 3 + 1)
    ]
    _, output, _ = run_kind(spec, train)
    assert output.vocabulary_size_by_name(names.vocabulary_name(spec.key)) == columns.ONE_HOT_MAX
