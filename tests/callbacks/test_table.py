"""LiveTable: columns from hints, units and precision from data keys, header and footer."""

from __future__ import annotations

import io

from cielo.callbacks import LiveTable, replay


def lines_of(table_out: io.StringIO) -> list[str]:
    return table_out.getvalue().splitlines()


def test_table_columns_units_rows_and_footer(docs):
    out = io.StringIO()
    run = docs.step_run([0.0, 0.5, 1.0], md={"scan_id": 42})
    replay(run, LiveTable(out=out, width=120))
    lines = lines_of(out)
    assert lines[0].startswith("scan 42  scan  uid ")
    header = next(line for line in lines if "seq_num" in line)
    assert header.split("|")[1:-1] == [
        f" {t:>{w}} " for t, w in [("seq_num", 7), ("time", 12), ("motor", 10), ("det", 10)]
    ]
    assert "[mm]" in lines[3] and "[counts]" in lines[3]
    rows = [
        line for line in lines if line.startswith("| ") and line.split("|")[1].strip().isdigit()
    ]
    assert len(rows) == 3
    events = [d for n, d in run if n == "event"]
    for row, event in zip(rows, events, strict=True):
        cells = [c.strip() for c in row.split("|")[1:-1]]
        assert cells[0] == str(event["seq_num"])
        assert cells[2] == f"{event['data']['motor']:.3f}"  # precision 3 from the data key
        assert cells[3] == f"{event['data']['det']:.2f}"  # precision 2 from the data key
    assert lines[-1].startswith("success: scan 42")
    assert "3 events" in lines[-1]


def test_footer_reports_failure_reason(docs):
    out = io.StringIO()
    replay(docs.step_run(range(2), exit_status="fail"), LiveTable(out=out))
    assert lines_of(out)[-1].startswith("fail:")
    assert "reason: synthetic failure" in lines_of(out)[-1]


def test_many_columns_stay_within_width_and_are_named(docs):
    dets = tuple(f"detector_{i}" for i in range(12))
    out = io.StringIO()
    replay(docs.step_run(range(2), detectors=dets), LiveTable(out=out, width=100))
    text = out.getvalue()
    assert all(len(line) <= 100 for line in text.splitlines() if line.startswith(("|", "+")))
    assert "not shown:" in text and "detector_11 (no room" in text


def test_explicit_fields_and_missing_ones(docs):
    out = io.StringIO()
    replay(docs.step_run(range(2), detectors=("det", "det2")), LiveTable(["det2", "nope"], out=out))
    text = out.getvalue()
    header = next(line for line in text.splitlines() if "seq_num" in line)
    assert "det2" in header and " det " not in header
    assert "fields not in stream 'primary': nope" in text


def test_arrays_are_listed_not_printed(docs):
    out = io.StringIO()
    replay(docs.image_run(2), LiveTable(out=out))
    assert "not shown: camera (array [16, 24])" in out.getvalue()


def test_pages_and_events_print_the_same_rows(docs):
    a, b = io.StringIO(), io.StringIO()
    run = docs.step_run(range(7))
    paged = docs.step_run(range(7), pages=True)
    replay(run, LiveTable(out=a, width=90))
    replay(paged, LiveTable(out=b, width=90))
    rows_a = [line.split("|")[3:] for line in lines_of(a) if line.startswith("| ")]
    rows_b = [line.split("|")[3:] for line in lines_of(b) if line.startswith("| ")]
    assert rows_a == rows_b and len(rows_a) == 9  # titles + units + 7 rows


def test_default_output_is_stdout(docs, capsys):
    replay(docs.step_run(range(2)), LiveTable())
    assert "success: scan" in capsys.readouterr().out


def test_header_repeats_and_no_hints_fall_back_to_numbers(docs):
    out = io.StringIO()
    run = docs.step_run(range(6))
    run[1][1]["hints"] = {}
    replay(run, LiveTable(out=out, header_every=3, width=100))
    text = out.getvalue()
    assert text.count("| seq_num |") == 3  # at the start, before rows 3 and 6
    header = next(line for line in text.splitlines() if "seq_num" in line)
    assert "motor" in header and "det" in header
