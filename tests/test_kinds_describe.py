"""Each column's line in the console and the report (modules/kinds/describe.py)."""

from modules import columns
from modules.columns import ColumnSpec
from modules.kinds.describe import describe


def test_a_line_names_the_column_its_kind_the_reason_and_what_the_model_reads():
    line = describe(
        ColumnSpec(
            "Zip Code", columns.CATEGORICAL, encoding=columns.EMBEDDING, reason="9,000+ values"
        )
    )
    assert line.startswith("Zip Code: categorical, embedding (9,000+ values) - its 10,000 most")
    assert describe(ColumnSpec("id", columns.IGNORE, reason="an id")) == "id: left out (an id)"
