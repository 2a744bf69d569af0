"""Each column's kind from a bounded sample (pipeline/column_choice.py)."""

import pytest

from modules import columns
from pipeline import column_choice
from pipeline.column_choice import SAMPLE_ROWS, choose, guess, sample_columns

WORDS = "price great late staff value friendly delivery never again broken box".split()


def kinds_of(header, rows, **settings):
    samples = sample_columns(header, rows)
    specs = choose(samples, header, settings.get("overrides", {}), settings.get("explicit", False))
    return {spec.name: (spec.kind, spec.encoding) for spec in specs}


def test_each_kind_is_recognized_from_the_cells_users_export():
    header = ["n", "row", "colour", "zip", "notes", "when", "member", "id", "blank", "mixed", "key"]
    rows = [
        [
            "NA" if i % 9 == 0 else f"{i * 0.37:.2f}",
            str(i + 1),
            ["red", "green", "blue"][i % 3],
            f"Z{i % 400:04d}",
            f"{WORDS[i % 11]} {WORDS[i // 11 % 11]} {WORDS[i // 121 % 11]} order {i}",
            f"2016-{i % 12 + 1:02d}-{i % 28 + 1:02d}" + ("T10:30:00" if i % 2 else ""),
            ["Yes", "no"][i % 2],
            f"u{i * 7919 % 100003}",
            "",
            "n/a" if i % 5 == 0 else str(i % 7),
            f"C-1-{i:07d}",  # three "words", but no space: an id, not text
        ]
        for i in range(2000)
    ]
    assert kinds_of(header, rows) == {
        "n": (columns.NUMERIC, ""),
        "row": (columns.IGNORE, ""),
        "colour": (columns.CATEGORICAL, columns.ONE_HOT),
        "zip": (columns.CATEGORICAL, columns.EMBEDDING),
        "notes": (columns.TEXT, ""),
        "when": (columns.DATE, ""),
        "member": (columns.BOOLEAN, ""),
        "id": (columns.IGNORE, ""),
        "blank": (columns.IGNORE, ""),
        "mixed": (columns.NUMERIC, ""),
        "key": (columns.IGNORE, ""),
    }
    samples = {s.name: s for s in sample_columns(header, rows)}
    assert guess(samples["member"]).true_value == "yes"
    assert guess(samples["when"]).times


def test_few_rows_prove_no_id_and_few_values_stay_categorical():
    rows = [[f"u{i}", ["large bird, loud", "small, quiet bird"][i % 2]] for i in range(20)]
    assert kinds_of(["user", "note"], rows) == {
        "user": (columns.CATEGORICAL, columns.ONE_HOT),
        "note": (columns.CATEGORICAL, columns.ONE_HOT),
    }


def test_overrides_win_and_an_id_named_by_features_is_kept():
    rows = [[str(i), f"u{i}", ["yes", "no"][i % 2]] for i in range(100)]
    kinds = kinds_of(
        ["row", "user", "flag"],
        rows,
        overrides={"flag": columns.CATEGORICAL, "row": columns.TEXT},
        explicit=True,
    )
    assert kinds == {
        "row": (columns.TEXT, ""),
        "user": (columns.CATEGORICAL, columns.EMBEDDING),
        "flag": (columns.CATEGORICAL, columns.ONE_HOT),
    }
    with pytest.raises(ValueError, match="cannot be boolean: it has 100 distinct values"):
        kinds_of(["user"], [[f"u{i}"] for i in range(100)], overrides={"user": columns.BOOLEAN})
    with pytest.raises(ValueError, match="--columns names column.s. 'nope' that the data lacks"):
        kinds_of(["user"], [["u"]], overrides={"nope": columns.TEXT})


def test_a_small_tables_text_keeps_only_the_words_enough_rows_share():
    """300 car names: the make is in many rows, each model word in one or two. The vocabulary is
    the words in MIN_WORD_ROWS+ rows; a text of rare words only is left out, saying why; a
    table larger than the sample keeps the default vocabulary."""
    makes = ["ford", "chevrolet", "toyota", "datsun", "amc", "dodge"]
    rows = [
        [f"{makes[i % 6]} model{i} {'wagon' if i % 10 == 0 else 'x' + str(i)}"] for i in range(300)
    ]
    (spec,) = choose(sample_columns(["name"], rows), ["name"], {}, False)
    assert (spec.kind, spec.vocabulary) == (columns.TEXT, 7)  # six makes and "wagon"
    assert "7 of its 577 words in 5+ rows" in spec.reason
    rare = [[f"alpha{i} beta{i} gamma{i} delta{i}"] for i in range(300)]
    (ignored,) = choose(sample_columns(["note"], rare), ["note"], {}, False)
    assert ignored.kind == columns.IGNORE and "no word in enough rows" in ignored.reason
    (asked,) = choose(sample_columns(["note"], rare), ["note"], {"note": columns.TEXT}, False)
    assert (asked.kind, asked.vocabulary) == (columns.TEXT, 1)
    large = ([f"{makes[i % 6]} model{i} trim{i}"] for i in range(SAMPLE_ROWS + 10))
    (big,) = choose(sample_columns(["name"], large), ["name"], {}, False)
    assert (big.kind, big.vocabulary) == (columns.TEXT, 0)  # TEXT_VOCABULARY


def test_the_sample_stops_at_its_size_whatever_the_rows():
    endless = ([str(i)] for i in range(10**9))
    (sample,) = sample_columns(["n"], endless)
    assert sample.rows == SAMPLE_ROWS and len(sample.values) == SAMPLE_ROWS


def test_the_console_says_each_kind_the_copy_and_the_rows_set_aside(tmp_path):
    import dataclasses

    from pipeline.config import PipelineConfig
    from pipeline.resolution import resolve
    from tests import exports

    path, label = exports.variants(str(tmp_path))["empty labels"]
    config = resolve(
        dataclasses.replace(
            PipelineConfig(),
            data=path,
            label=label,
            output=str(tmp_path / "out"),
            inference_data="",
        )
    )
    lines = column_choice.console_lines(config)
    assert lines[1] == "  island: categorical, one-hot (3 values) - one-hot of its values " + (
        "(at most 50) and one bucket for others"
    )
    assert "9 row(s) with an empty label set aside" in lines[-2]  # why the copy was made
    assert lines[-1].startswith("twinnorm: 9 row(s) with an empty label set aside: never trained")
