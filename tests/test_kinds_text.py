"""Free text: words in a capped vocabulary, padded to a fixed length (modules/kinds/text.py)."""

import tensorflow as tf

from modules import columns, names
from modules.columns import ColumnSpec
from modules.kinds import KINDS
from modules.kinds.text import PAD, words
from tests.kind_runs import run_kind


def test_words_are_lowercased_runs_of_letters_and_digits_in_any_script():
    split = words(tf.constant(["Great value!! 2 boxes", "Schöne Grüße, Müller", ""]))
    assert split.to_list() == [
        [b"great", b"value", b"2", b"boxes"],
        ["schöne".encode(), "grüße".encode(), "müller".encode()],
        [],
    ]
    long = words(tf.constant([" ".join(["w"] * 100)]))
    assert long.row_lengths().numpy().tolist() == [columns.TEXT_TOKENS]


def test_a_text_column_becomes_word_ids_with_unseen_words_in_one_bucket():
    spec = ColumnSpec("Notes", columns.TEXT)
    train = [[b"great value"], [b"great staff"], [], [b"late delivery, great"]]
    trained, output, served = run_kind(spec, train, served=[[b"great unheard-of"]])
    ids = trained[spec.key]
    assert ids.shape == (4, columns.TEXT_TOKENS)
    vocabulary = [v.decode() for v in output.vocabulary_by_name(names.vocabulary_name(spec.key))]
    assert vocabulary[0] == "great"  # the most frequent first
    assert ids[0, :2].tolist() == [1, vocabulary.index("value") + 1]  # 0 is PAD
    assert (ids[2] == PAD).all() and (ids[0, 2:] == PAD).all()
    oov = len(vocabulary) + 1
    assert served[spec.key][0, :3].tolist() == [1, oov, oov]  # "unheard", "of": never seen
    part = KINDS[columns.TEXT].layout(spec, output)
    assert part.text == {spec.key: (len(vocabulary) + 2, columns.TEXT_TOKENS)}
