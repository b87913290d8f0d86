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
- only regular files and folders are written: an empty name, ``-`` (hydro does not write to
  standard output), a special file (FIFO, device, socket: ``/dev/null``, ``/dev/stdout``) and a
  symbolic link as the output, or anywhere inside an output folder, are refused before any
  computation (symbolic links in the folders above the output are the user's own and are
  followed); so is a folder hydro cannot write into (read-only, or not the user's);
- a file output replaces only a file (never a folder) and is written beside its destination,
  then moved into place (``os.replace``), so a failure leaves the old file or nothing;
- an existing file output is replaced only when hydro wrote it and it has not changed since:
  beside each file it writes, hydro keeps the list ``.hydro-files`` (:data:`FILES_MARKER`:
  each file's name and the SHA-256 of what hydro wrote). Any other file (the user's own, or
  one edited since) is refused before the run unless ``force``, so re-running a command
  replaces its own outputs and nothing else;
- an existing output folder is reused only when hydro wrote it (it holds the marker file
  ``.hydro-output``, which lists the files hydro wrote) or it is empty; any other folder is
  refused unless ``force``. Reusing a folder replaces only the files hydro writes (and removes
  the ones its previous run wrote that this one does not): a user's own file in it survives.
  A file the marker lists is replaced or removed only when it is still a regular file inside
  the folder, reached through real folders (no symbolic link, no ``..``); anything else there
  (a symbolic link, a special file) stops the run before a file is moved;
- a folder is assembled in a hidden staging folder on the same file system (beside it, or
  inside it when it exists) and moved into place at the end; the staging folder is removed on
  success, failure, Ctrl-C and SIGTERM (the command line turns SIGTERM into an exception),
  and stale staging folders of killed runs are removed by the next run into the same folder
  (only folders with the exact name hydro gives them and the mark hydro puts in them, of a
  process that no longer runs);
- a write that fails (a full disk, a folder made read-only or removed during the run) is an
  :class:`~hydro.errors.OutputError` naming the output; the previous output is left as it was;
- files and folders get the permissions of the user's umask, like any file the user creates
  (``tempfile`` would make them private: 0600 and 0700);
- CSV tables go through :func:`write_csv`: a text cell that a spreadsheet would run as a
  formula gets a leading apostrophe.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import signal
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from hydro.errors import InputError, OutputError

logger = logging.getLogger(__name__)

#: The file that marks a folder as written by hydro; it lists the files hydro wrote there.
MARKER = ".hydro-output"
#: The file beside single-file outputs that lists those hydro wrote there: one line each,
#: the SHA-256 of the content hydro wrote, two spaces and the file's name (``sha256sum``'s
#: format).
FILES_MARKER = ".hydro-files"
#: First characters that make a spreadsheet read a text cell as a formula ("CSV injection",
#: OWASP): such a cell is written with a leading apostrophe, which the spreadsheet shows
#: as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PARTIAL = ".hydro-partial-"
#: The mark hydro puts in each staging folder it makes (not published).
_STAGING_MARK = ".hydro-staging"
#: What ``tempfile.mkdtemp`` appends to a staging folder's prefix.
_RANDOM = r"[a-z0-9_]{8}"


#: The longest name that becomes part of a file name [characters]; file systems allow 255
#: bytes, and hydro adds prefixes and suffixes (``taps_villages_`` ... ``.csv``).
MAX_NAME_CHARS = 100
#: What a name that becomes part of a file name may be, for messages.
FILE_NAME_RULE = (
    f"a name that becomes part of a file name: 1 to {MAX_NAME_CHARS} characters, no '/', "
    "'\\', NUL or control character, not '.' or '..', no space at either end"
)


def file_name_problem(name) -> str | None:
    """What keeps ``name`` from being part of a file name (:data:`FILE_NAME_RULE`), or None.

    Examples
    --------
    >>> file_name_problem("household_connections") is None
    True
    >>> file_name_problem("../pwned").startswith("holds '/'")
    True
    """
    if not isinstance(name, str):
        return f"must be a text; {FILE_NAME_RULE}"
    if not name or name in (".", "..") or name != name.strip():
        return f"is {name!r}; {FILE_NAME_RULE}"
    if (
        len(name) > MAX_NAME_CHARS
        or len(name.encode("utf-8", "surrogatepass")) > 2 * MAX_NAME_CHARS
    ):
        return f"is {len(name)} characters long; {FILE_NAME_RULE}"
    bad = next((c for c in name if c in "/\\" or ord(c) < 32 or ord(c) == 127), None)
    if bad is not None:
        shown = repr(bad) if bad in "/\\" else f"the control character {ord(bad):#04x}"
        return f"holds {shown}; {FILE_NAME_RULE}"
    return None


def check_file_name(name, key: str) -> str:
    """Return ``name`` when it can be part of a file name.

    Raises
    ------
    InputError
        Naming ``key`` and the rule (:func:`file_name_problem`).
    """
    problem = file_name_problem(name)
    if problem:
        raise InputError(f"{key} = {name!r}: {problem}")
    return name


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
    """Hold SIGINT, SIGTERM and SIGHUP while files are moved into place (delivered after)."""
    block = {signal.SIGINT, signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])}
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, block)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _kind(path: Path) -> str | None:
    """What ``path`` is, without following a symbolic link: None when it does not exist."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):  # a file on the way: the callers say so
        return None
    except OSError as exc:
        return f"unreadable ({exc.strerror})"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file (socket)"


def output_name(raw, option: str) -> Path:
    """An output name as a :class:`Path`; refuse an empty name, a NUL byte and ``-``.

    Check the name the user gave before making it a :class:`Path`: ``Path("")`` is ``.``,
    the current folder.
    """
    text = os.fspath(raw)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if not text.strip():
        raise InputError(f"{option}: the name is empty; give a file or folder name")
    if "\0" in text:
        raise InputError(f"{option} {text!r}: a name cannot hold a NUL byte")
    path = Path(text)
    if path.name == "-":
        raise InputError(
            f"{option} {text!r}: hydro does not write to standard output ('-'); "
            "give a file or folder name"
        )
    return path


def _refuse_special(path: Path, option: str, want: str) -> None:
    """Refuse ``path`` when it exists as something other than a regular ``want``."""
    kind = _kind(path)
    if kind is not None and kind not in ("file", "folder"):
        raise InputError(
            f"{path}: {option} is {kind}; hydro writes only regular files and folders it "
            f"creates: give the name of a new {want}"
        )


def _check_writable(path: Path, option: str) -> None:
    """Refuse an output whose nearest existing folder hydro cannot write into."""
    folder = path.parent
    while _kind(folder) is None and folder != folder.parent:
        folder = folder.parent
    if _kind(folder) == "folder" and not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(
            f"{path}: {option}: cannot write into {folder} (read-only, or not yours); "
            "choose a folder you can write into"
        )


def _failed(path: Path, exc: OSError) -> OutputError:
    """A write into ``path`` that failed, as one message (the previous output is kept)."""
    why = exc.strerror or str(exc)
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
    return OutputError(f"{path}: cannot write the output: {why}{where}; nothing was replaced")


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` when the block succeeds.

    On any failure (including Ctrl-C and SIGTERM) the temporary file is removed and ``path``
    is left as it was. ``path`` must be a new name or a regular file (never a folder, a
    symbolic link or a special file); a write that fails is an :class:`OutputError`.
    """
    path = output_name(path, "output")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give a file name")
    _refuse_special(path, "the output", "file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=f".hydro-tmp{path.suffix}", dir=path.parent
        )
        os.close(fd)
    except OSError as exc:
        raise _failed(path, exc) from exc
    tmp = Path(name)
    try:
        try:
            yield tmp
            _chmod_like_new(tmp, folder=False)
            with _signals_deferred():
                _refuse_special(path, "the output", "file")
                os.replace(tmp, path)
        except OSError as exc:
            raise _failed(path, exc) from exc
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
    """Staging folders left by killed runs (SIGKILL, power cut) beside or inside ``folder``.

    Only a real folder (not a link) named exactly as hydro names them, holding hydro's mark,
    of a process that no longer runs, is removed: a user's folder that merely looks like one
    (``.out.hydro-partial-999999-mine``) is kept.
    """
    for parent, prefix in ((folder.parent, f".{folder.name}{_PARTIAL}"), (folder, _PARTIAL)):
        if _kind(parent) != "folder":
            continue
        pattern = re.compile(re.escape(prefix) + r"(\d+)-" + _RANDOM)
        for stale in parent.iterdir():
            match = pattern.fullmatch(stale.name)
            if not match or _kind(stale) != "folder" or _kind(stale / _STAGING_MARK) != "file":
                continue
            pid = int(match.group(1))
            if pid != os.getpid() and not _alive(pid):
                shutil.rmtree(stale, ignore_errors=True)


def hydro_files(folder: Path) -> list[str] | None:
    """The files hydro wrote into ``folder`` (from its marker), or None when not marked."""
    marker = folder / MARKER
    if _kind(marker) != "file":  # a link or a special file is not hydro's marker
        return None
    lines = marker.read_text(errors="replace").splitlines()
    return [line for line in lines[1:] if line and not line.startswith("#")]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files_written(folder: Path) -> dict[str, str]:
    """The files hydro wrote into ``folder`` as single outputs: name -> SHA-256 ({} if none)."""
    marker = folder / FILES_MARKER
    if _kind(marker) != "file":  # a link or a special file is not hydro's list
        return {}
    out = {}
    for line in marker.read_text(errors="replace").splitlines():
        digest, sep, name = line.partition("  ")
        if sep and name and not line.startswith("#"):
            out[name] = digest
    return out


def written_by_hydro(path: str | os.PathLike) -> bool:
    """True when hydro wrote the file ``path`` (:data:`FILES_MARKER`) and it is unchanged."""
    path = Path(path)
    digest = _files_written(path.parent).get(path.name)
    if digest is None or _kind(path) != "file":
        return False
    try:
        return _sha256(path) == digest
    except OSError:
        return False


def record_written(path: str | os.PathLike) -> None:
    """Add the file ``path``, just written, to the :data:`FILES_MARKER` list beside it.

    Names whose file is gone are dropped. A list that cannot be written (a link, a special
    file) is left alone, with a note: the file is then new to the next run.
    """
    path = Path(path)
    listed = {
        name: digest
        for name, digest in _files_written(path.parent).items()
        if _kind(path.parent / name) == "file"
    }
    listed[path.name] = _sha256(path)
    text = "# written by hydro: files it may replace while unchanged (SHA-256, name)\n"
    text += "".join(f"{digest}  {name}\n" for name, digest in sorted(listed.items()))
    try:
        with atomic_file(path.parent / FILES_MARKER) as tmp:
            tmp.write_text(text)
    except (InputError, OutputError) as exc:
        logger.warning("note: %s is not recorded as hydro's: %s", path, exc)


class Outputs:
    """The outputs of one command, checked against its inputs before any computation.

    Parameters
    ----------
    inputs : iterable of path
        Every file the command reads (None entries are skipped); no output may replace one.
    force : bool
        Write into an existing folder that hydro did not write (its other files are kept;
        files with the names hydro writes are replaced), and replace an existing file that
        hydro did not write (:func:`written_by_hydro`).
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
        path = output_name(path, option)
        if _kind(path) == "folder":
            raise InputError(f"{path}: {option} is a folder; give a file name")
        _refuse_special(path, option, "file")
        self._check_parents(path, option)
        self._claim(path, option)
        if _kind(path) == "file" and not self.force and not written_by_hydro(path):
            raise InputError(
                f"{path}: {option} exists and hydro did not write it (or it was changed "
                f"since: {path.parent / FILES_MARKER} lists the files hydro wrote); choose a "
                "new name, or add --force to replace it"
            )
        return path

    def folder(self, path: str | os.PathLike | None, option: str = "output folder") -> Path | None:
        """Check an output folder now (None passes through); return it as a :class:`Path`."""
        if path is None:
            return None
        path = output_name(path, option)
        if _kind(path) == "file":
            raise InputError(f"{path}: {option} is a file, not a folder; choose a new folder name")
        _refuse_special(path, option, "folder")
        self._check_parents(path, option)
        if _kind(path) == "folder":
            self._check_content(path, option)
        resolved = path.resolve()
        if any(resolved == p for p in self.inputs):
            raise InputError(f"{path}: {option} is an input file; choose another output")
        return self._claim(path, option)

    @staticmethod
    def _check_parents(path: Path, option: str) -> None:
        for parent in path.parents:
            if parent.exists() and not parent.is_dir():
                raise InputError(f"{path}: {option}: {parent} is a file, not a folder")
        _check_writable(path, option)

    def _check_content(self, path: Path, option: str) -> None:
        """Check an existing output folder: hydro's (marked) or empty, unless ``force``.

        A file the marker lists that is now a link, a special file or a folder (or is reached
        through a link) is refused: hydro neither follows nor replaces it.
        """
        if not os.access(path, os.W_OK | os.X_OK):
            raise InputError(
                f"{path}: {option}: cannot write into this folder (read-only, or not yours)"
            )
        listed = hydro_files(path)
        if listed is None and not self.force:
            others = [p for p in path.iterdir() if not p.name.startswith(_PARTIAL)]
            if others:
                raise InputError(
                    f"{path}: {option} exists and was not written by hydro (no {MARKER} "
                    "file); choose a new folder, or add --force to write hydro's files into "
                    "it (files with other names are kept)"
                )
        for rel in listed or ():
            if _relative(rel) and _inside(path, rel) is None and _kind(path / rel) is not None:
                raise InputError(
                    f"{path / rel}: listed in {path / MARKER} as a file hydro wrote, but it is "
                    f"now {_kind(path / rel)} (or reached through a link); hydro neither follows "
                    "nor replaces it: move it away or choose another folder"
                )

    @contextlib.contextmanager
    def write(self, path: Path) -> Iterator[Path]:
        """Write one output file atomically: yield a temporary path, move it into place.

        The file is then recorded as hydro's (:func:`record_written`).
        """
        with atomic_file(path) as tmp:
            yield tmp
        record_written(path)

    @staticmethod
    def record(path: Path) -> None:
        """Record a file output written by other means (a library call) as hydro's."""
        record_written(path)

    @contextlib.contextmanager
    def assemble(self, folder: Path) -> Iterator[Path]:
        """Yield a staging folder; publish its content into ``folder`` when the block succeeds.

        The staging folder is removed whatever happens; on failure ``folder`` is left as it was.
        """
        folder = output_name(folder, "output folder")
        _refuse_special(folder, "the output folder", "folder")
        exists = _kind(folder) == "folder"
        _remove_stale_staging(folder)
        if exists:
            parent, prefix = folder, _PARTIAL
        else:
            parent, prefix = folder.parent, f".{folder.name}{_PARTIAL}"
        try:
            parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))
        except OSError as exc:
            raise _failed(folder, exc) from exc
        try:
            try:
                (staging / _STAGING_MARK).write_text(f"hydro staging of process {os.getpid()}\n")
                yield staging
                (staging / _STAGING_MARK).unlink()
                self._publish(staging, folder)
            except OSError as exc:
                raise _failed(folder, exc) from exc
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
            _refuse_special(folder, "the output folder", "folder")
            if not folder.exists():
                (staging / MARKER).write_text(marker_text)
                _chmod_like_new(staging / MARKER, folder=False)
                os.rename(staging, folder)
                return
            previous = set(hydro_files(folder) or [])
            self._check_targets(folder, written, previous)
            for rel in written:
                target = folder / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / rel, target)
            for rel in previous - set(written):
                old = _inside(folder, rel)
                if old is not None and old.resolve() not in self.inputs:
                    old.unlink()
            with atomic_file(folder / MARKER) as tmp:
                tmp.write_text(marker_text)

    def _check_targets(self, folder: Path, written: list[str], previous: set[str]) -> None:
        """Check, before a file is moved, every place hydro writes to.

        Each is new, or a regular file hydro wrote (with ``force``, any regular file), reached
        through real folders.
        """
        theirs = []
        for rel in written:
            target = folder / rel
            kind = _kind(target)
            if kind is None:
                for sub in reversed(target.relative_to(folder).parents[:-1]):
                    if _kind(folder / sub) not in (None, "folder"):
                        raise InputError(
                            f"{folder / sub}: is {_kind(folder / sub)} where hydro writes a "
                            "folder; nothing written (hydro does not follow links)"
                        )
                continue
            if kind == "folder":
                raise InputError(f"{target}: is a folder where hydro writes a file")
            if _inside(folder, rel) is None:
                raise InputError(
                    f"{target}: is {kind} (or reached through a link) where hydro writes a "
                    "file; nothing written (hydro neither follows nor replaces it)"
                )
            if rel not in previous:
                theirs.append(rel)
        if theirs and not self.force:  # files hydro did not write here: never replaced
            shown = ", ".join(theirs[:5]) + (" ..." if len(theirs) > 5 else "")
            raise InputError(
                f"{folder}: holds {shown}, which hydro did not write there; nothing written "
                "(move them away, choose another folder, or add --force to replace them)"
            )


def _relative(rel: str) -> bool:
    """True for a plain relative name (no ``..``, ``.`` or absolute path)."""
    parts = Path(rel).parts
    return bool(parts) and not Path(rel).is_absolute() and not {".", ".."} & set(parts)


def _inside(folder: Path, rel: str) -> Path | None:
    """Return ``folder / rel`` when it is a regular file reached through real folders.

    None when ``rel`` is not a plain relative name, or a link, a special file or a missing
    entry is on the way.
    """
    if not _relative(rel):
        return None
    parts = Path(rel).parts
    path = folder
    for part in parts[:-1]:
        path = path / part
        if _kind(path) != "folder":
            return None
    path = path / parts[-1]
    return path if _kind(path) == "file" else None
