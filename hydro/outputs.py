"""Output safety: hydro writes only files it creates, never an input, and never half a run.

Every command that writes declares its outputs first, before any computation, through one
:class:`Outputs` object::

    outputs = Outputs(inputs=[args.network, args.catalog], force=args.force)
    report = outputs.file(args.report, "--report")      # checked now
    folder = outputs.folder(args.out, "--out")          # checked now
    ...                                                 # the long computation
    with outputs.write(report) as tmp:                  # one file, atomically
        table.to_csv(tmp)
    with outputs.assemble(folder) as staging:           # a folder, all or nothing
        write_everything(staging)

The rules:

- an output path equal to an input is refused, and so are two outputs with the same path;
- a file output replaces only a file (never a folder) and is written beside its destination,
  then moved into place (``os.replace``), so a failure leaves the old file or nothing;
- an existing output folder is reused only when hydro wrote it (it holds the marker file
  ``.hydro-output``, which lists the files hydro wrote) or it is empty; any other folder is
  refused unless ``force``. Reusing a folder replaces only the files hydro writes (and removes
  the ones its previous run wrote that this one does not): a user's own file in it survives;
- a folder is assembled in a hidden staging folder on the same file system (beside it, or
  inside it when it exists) and moved into place at the end; the staging folder is removed on
  success, failure, Ctrl-C and SIGTERM (the command line turns SIGTERM into an exception),
  and stale staging folders of killed runs are removed by the next run into the same folder;
- files and folders get the permissions of the user's umask, like any file the user creates
  (``tempfile`` would make them private: 0600 and 0700);
- CSV tables go through :func:`write_csv`: a text cell that a spreadsheet would run as a
  formula gets a leading apostrophe.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from hydro.errors import InputError

#: The file that marks a folder as written by hydro; it lists the files hydro wrote there.
MARKER = ".hydro-output"
#: First characters that make a spreadsheet read a text cell as a formula ("CSV injection",
#: OWASP): such a cell is written with a leading apostrophe, which the spreadsheet shows
#: as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PARTIAL = ".hydro-partial-"


def _inert(values):
    """``values`` (text, or anything) with an apostrophe before any text that starts like a
    formula and is not a number (a lone "-" or "+", a placeholder, stays as it is).
    """
    out = []
    for value in values:
        if isinstance(value, str) and value.startswith(FORMULA_START) and value not in ("-", "+"):
            try:
                float(value)
            except ValueError:
                value = "'" + value
        out.append(value)
    return out


def write_csv(frame, path, **options) -> None:
    """``frame.to_csv(path, **options)`` with no text cell, and no column name, that a
    spreadsheet would run as a formula (:data:`FORMULA_START`; numbers are left alone).
    ``frame`` itself is not changed.
    """
    from pandas.api.types import is_string_dtype

    risky = [c for c in frame.columns if is_string_dtype(frame[c].dtype)]
    safe = frame
    if risky or any(isinstance(c, str) and c.startswith(FORMULA_START) for c in frame.columns):
        safe = frame.copy()
        for c in risky:
            safe[c] = _inert(safe[c].tolist())
        safe.columns = _inert(list(frame.columns))
    safe.to_csv(path, **options)


def umask() -> int:
    """The process's umask (read without changing it for good)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _chmod_like_new(path: Path, folder: bool) -> None:
    """Give ``path`` the mode a file or folder created by the user would get."""
    os.chmod(path, (0o777 if folder else 0o666) & ~umask())


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while files are moved into place (delivered right after)."""
    block = {signal.SIGINT, signal.SIGTERM}
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, block)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` when the block succeeds.

    On any failure (including Ctrl-C and SIGTERM) the temporary file is removed and ``path``
    is left as it was.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=f".hydro-tmp{path.suffix}", dir=path.parent
    )
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _chmod_like_new(tmp, folder=False)
        with _signals_deferred():
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_staging(folder: Path) -> None:
    """Staging folders left by killed runs (SIGKILL, power cut) beside or inside ``folder``."""
    for parent, prefix in ((folder.parent, f".{folder.name}{_PARTIAL}"), (folder, _PARTIAL)):
        if not parent.is_dir():
            continue
        for stale in parent.glob(f"{prefix}*"):
            try:
                pid = int(stale.name[len(prefix) :].split("-")[0])
            except ValueError:
                continue
            if pid != os.getpid() and not _alive(pid) and stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)


def hydro_files(folder: Path) -> list[str] | None:
    """The files hydro wrote into ``folder`` (from its marker), or None when not marked."""
    marker = folder / MARKER
    if not marker.is_file():
        return None
    lines = marker.read_text(errors="replace").splitlines()
    return [line for line in lines[1:] if line and not line.startswith("#")]


class Outputs:
    """The outputs of one command, checked against its inputs before any computation.

    Parameters
    ----------
    inputs : iterable of path
        Every file the command reads (None entries are skipped); no output may replace one.
    force : bool
        Write into an existing folder that hydro did not write (its other files are kept;
        files with the names hydro writes are replaced).
    """

    def __init__(self, inputs: Iterable[str | os.PathLike | None] = (), force: bool = False):
        self.inputs = {Path(p).resolve() for p in inputs if p is not None}
        self.force = force
        self._planned: dict[Path, str] = {}

    def _claim(self, path: Path, option: str) -> Path:
        resolved = path.resolve()
        if resolved in self.inputs:
            raise InputError(
                f"{path}: {option} would overwrite an input file; choose another output"
            )
        if resolved in self._planned:
            raise InputError(
                f"{path}: {option} and {self._planned[resolved]} name the same output; "
                "choose different names"
            )
        self._planned[resolved] = option
        return path

    def file(self, path: str | os.PathLike | None, option: str = "output") -> Path | None:
        """Check an output file now (None passes through); return it as a :class:`Path`."""
        if path is None:
            return None
        path = Path(path)
        if path.is_dir():
            raise InputError(f"{path}: {option} is a folder; give a file name")
        for parent in path.parents:
            if parent.exists() and not parent.is_dir():
                raise InputError(f"{path}: {option}: {parent} is a file, not a folder")
        return self._claim(path, option)

    def folder(self, path: str | os.PathLike | None, option: str = "output folder") -> Path | None:
        """Check an output folder now (None passes through); return it as a :class:`Path`."""
        if path is None:
            return None
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise InputError(f"{path}: {option} is a file, not a folder; choose a new folder name")
        for parent in path.parents:
            if parent.exists() and not parent.is_dir():
                raise InputError(f"{path}: {option}: {parent} is a file, not a folder")
        if path.is_dir() and not self.force:
            marked = hydro_files(path) is not None
            others = [p for p in path.iterdir() if not p.name.startswith(_PARTIAL)]
            if others and not marked:
                raise InputError(
                    f"{path}: {option} exists and was not written by hydro (no {MARKER} "
                    "file); choose a new folder, or add --force to write hydro's files into it "
                    "(files with other names are kept)"
                )
        resolved = path.resolve()
        if any(resolved == p for p in self.inputs):
            raise InputError(f"{path}: {option} is an input file; choose another output")
        return self._claim(path, option)

    @contextlib.contextmanager
    def write(self, path: Path) -> Iterator[Path]:
        """Write one output file atomically: yield a temporary path, move it into place."""
        with atomic_file(path) as tmp:
            yield tmp

    @contextlib.contextmanager
    def assemble(self, folder: Path) -> Iterator[Path]:
        """Yield a staging folder; publish its content into ``folder`` when the block succeeds.

        The staging folder is removed whatever happens; on failure ``folder`` is left as it was.
        """
        folder = Path(folder)
        exists = folder.is_dir()
        _remove_stale_staging(folder)
        if exists:
            parent, prefix = folder, _PARTIAL
        else:
            folder.parent.mkdir(parents=True, exist_ok=True)
            parent, prefix = folder.parent, f".{folder.name}{_PARTIAL}"
        staging = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))
        try:
            yield staging
            self._publish(staging, folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _publish(self, staging: Path, folder: Path) -> None:
        written = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if not p.is_dir())
        for rel in written:
            target = (folder / rel).resolve()
            if target in self.inputs:
                raise InputError(f"{folder / rel}: would overwrite an input file; nothing written")
        marker_text = "# written by hydro; the files it lists are replaced by the next run\n"
        marker_text += "".join(f"{rel}\n" for rel in written)
        for sub in [staging, *(p for p in staging.rglob("*") if p.is_dir())]:
            _chmod_like_new(sub, folder=True)
        with _signals_deferred():
            if not folder.exists():
                (staging / MARKER).write_text(marker_text)
                _chmod_like_new(staging / MARKER, folder=False)
                os.rename(staging, folder)
                return
            previous = hydro_files(folder) or []
            theirs = [
                rel for rel in written if (folder / rel).exists() and rel not in set(previous)
            ]
            if theirs and not self.force:  # files hydro did not write here: never replaced
                shown = ", ".join(theirs[:5]) + (" ..." if len(theirs) > 5 else "")
                raise InputError(
                    f"{folder}: holds {shown}, which hydro did not write there; nothing written "
                    "(move them away, choose another folder, or add --force to replace them)"
                )
            for rel in written:
                target = folder / rel
                if target.is_dir():
                    raise InputError(f"{target}: is a folder where hydro writes a file")
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / rel, target)
            root = folder.resolve()
            for rel in set(previous) - set(written):
                old = (folder / rel).resolve()
                inside = old.is_relative_to(root) and old != root
                if inside and old.is_file() and old not in self.inputs:
                    old.unlink()
            with atomic_file(folder / MARKER) as tmp:
                tmp.write_text(marker_text)
