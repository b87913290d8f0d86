"""A misspelt required option gets a "did you mean" too (argparse says only that the option
is required, before it looks at the words it does not know)."""

from __future__ import annotations

import pytest

from hydro.cli import main


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["size", "net.inp", "--catalgo", "c.csv", "--min-pressure", "10"],
         "--catalgo is not an option; did you mean '--catalog'?"),
        (["demand", "v.csv", "--netwrk=net.inp", "--year", "2030"],
         "--netwrk is not an option; did you mean '--network'?"),
    ],
)  # fmt: skip
def test_a_misspelt_required_option_gets_a_did_you_mean(argv, hint, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "the following arguments are required" in err and hint in err


def test_a_required_option_left_out_gets_no_hint(capsys):
    with pytest.raises(SystemExit):
        main(["size", "net.inp", "--min-pressure", "10"])
    assert "did you mean" not in capsys.readouterr().err
