"""The report's HTML pieces (components/report/markup.py): cells escaped, numbers readable."""

from components.report.markup import SECTIONS, image, section, table


def test_cells_are_escaped_and_numbers_are_readable():
    text = table(("name", "value"), [("<script>", 12345.0), ("ratio", 0.123456), ("n", 7)])
    assert "<td>&lt;script&gt;</td>" in text and "<script>" not in text
    assert "<td>12,345</td>" in text and "<td>0.1235</td>" in text and "<td>7</td>" in text
    assert text.count("<tr>") == 4  # the header and three rows


def test_a_section_carries_its_title_and_an_image_stays_inline():
    key, title = SECTIONS[0]
    text = section(key, image("AAAA", 'a "quoted" alt'))
    assert text.startswith(f'<section id="{key}"><h2>{title}</h2>')
    assert 'alt="a &quot;quoted&quot; alt" src="data:image/png;base64,AAAA"' in text
