"""The run lifecycle shared by pulls and pushes: what a run stores of its error."""

from __future__ import annotations

from store import Store
from sync.runs import RunReport, finish_run, start_run

SNILS = "112-233-445 95"


def test_a_runs_error_is_stored_without_the_personal_data_it_echoed(store: Store) -> None:
    report = RunReport("sch1", "es2", "pull")
    start_run(store, report)
    report.status = "failed"
    report.error = (
        f"ValidationError: 1 validation error for Pupil\nsnils\n  input_value='{SNILS}' "
        "(not read: marks)"
    )
    finish_run(store, report)
    with store.read() as tx:
        run = tx.runs.get(report.run_id or 0)
    assert run is not None and run.status == "failed"
    assert run.error is not None and SNILS not in run.error
    assert "validation error for Pupil" in run.error and "(not read: marks)" in run.error
    assert report.error == run.error  # what the CLI prints is the stored text
