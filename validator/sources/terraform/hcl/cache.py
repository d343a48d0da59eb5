"""Parsed files kept by content, in memory for one run and on disk across runs.

Parsing is most of a static scan, so a file whose bytes were seen before is not
parsed again: the syntax tree built from it is looked up by a digest of those
bytes, salted with everything the tree depends on (this project's version, the
source of the tree builder, python-hcl2's grammar and version, the Python
version). Trees are keyed on raw bytes, so whatever ``syntax.parse_file`` does to
the text (decoding, line endings) is part of what is cached.

On disk, in ``$XDG_CACHE_HOME/aurora-validate`` (default ``~/.cache/aurora-validate``),
one file per tree::

    trees/ab/ab12...ef      MAGIC | MAC(key, name | payload) | payload (pickle)

An entry is unpickled only when its MAC (BLAKE2b keyed by the random ``key`` file
of the cache directory, created once with mode 0600) matches: a truncated, corrupt
or foreign entry is ignored and rewritten, never trusted. A directory another user
owns or may write, or a key others may read, is not used. Entries are written to a
temporary file and moved into place with ``os.replace``, so concurrent runs
never see half an entry. The cache is an optimisation only: any failure to read
or write it falls back to parsing.

A file that does not parse is cached too (its error, without the path), so an
unchanged broken file costs nothing either.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

try:  # the C modules behind hashlib.blake2b and hmac.compare_digest: hashlib itself loads OpenSSL (slow to start)
    from _blake2 import blake2b
    from _operator import _compare_digest as compare_digest
except ImportError:  # another Python implementation
    from hashlib import blake2b
    from hmac import compare_digest  # type: ignore[no-redef]

from validator import __version__
from validator.errors import InputError
from validator.lazy_dataclass import lazy_dataclass
from validator.sources.terraform.hcl import syntax as s

MAGIC = b"AVTREE1\n"
_MAC_SIZE = 32
_KEY_SIZE = 32
# Trees held in memory for the run: shared modules are parsed once, memory stays bounded.
MEMORY_ENTRIES = 256

ENV_NO_CACHE = "AURORA_VALIDATE_NO_CACHE"
ENV_CACHE_DIR = "AURORA_VALIDATE_CACHE_DIR"


def default_directory(env: Mapping[str, str] | None = None) -> Path:
    """``$AURORA_VALIDATE_CACHE_DIR``, else ``$XDG_CACHE_HOME/aurora-validate``, else ``~/.cache/aurora-validate``."""
    env = os.environ if env is None else env
    if env.get(ENV_CACHE_DIR):
        return Path(env[ENV_CACHE_DIR])
    base = env.get("XDG_CACHE_HOME") or ""
    # The XDG specification: a relative path is invalid and is ignored.
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "aurora-validate"


def disabled_by_env(env: Mapping[str, str] | None = None) -> bool:
    value = (os.environ if env is None else env).get(ENV_NO_CACHE, "")
    return value.strip().lower() not in ("", "0", "false", "no", "off")


@lazy_dataclass(frozen=True)  # unpickled from the cache on a warm run, never built
class _Entry:
    """A parsed file without its path: a body and suppressions, or the parse error."""

    body: s.Body | None
    suppressions: dict[int, list[tuple[str, str]]]
    error: tuple[str, str, str] | None = None  # (suffix of "where" after the path, message, kind)


class ParseCache:
    """``parse(path, rel)`` with the result of an earlier parse of the same bytes, when there is one.

    ``directory=None`` keeps trees in memory only (``--no-cache``): a run still
    parses each distinct file once.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self._memory: OrderedDict[str, _Entry] = OrderedDict()
        self._salt: bytes | None = None
        self._key: bytes | None = None
        self._writable = directory is not None
        self._unusable = False
        # Counters, for the benchmark and the tests.
        self.parsed = 0  # files parsed by python-hcl2
        self.disk_hits = 0
        self.memory_hits = 0
        self.rejected = 0  # entries on disk that failed verification

    # ---------------------------------------------------------------- public
    def parse(self, path: Path, rel: str) -> s.ParsedFile:
        """The parsed file, or the InputError ``syntax.parse_file`` raises for it."""
        try:
            data = path.read_bytes()
        except OSError:
            return s.parse_file(path, rel)  # raises the error naming the file
        name = self._name(data)
        entry = self._memory.get(name)
        if entry is not None:
            self._memory.move_to_end(name)
            self.memory_hits += 1
            return _materialise(entry, path, rel)
        entry = self._load(name)
        if entry is not None:
            self.disk_hits += 1
        else:
            entry, cacheable = self._parse(path, rel, data)
            self.parsed += 1
            if not cacheable:  # the file changed while it was read: use the parse, remember nothing
                return _materialise(entry, path, rel)
            self._store(name, entry)
        self._remember(name, entry)
        return _materialise(entry, path, rel)

    # --------------------------------------------------------------- helpers
    def _name(self, data: bytes) -> str:
        if self._salt is None:
            self._salt = _salt()
        return blake2b(data, digest_size=20, key=self._salt).hexdigest()

    def _remember(self, name: str, entry: _Entry) -> None:
        self._memory[name] = entry
        if len(self._memory) > MEMORY_ENTRIES:
            self._memory.popitem(last=False)

    def _parse(self, path: Path, rel: str, data: bytes) -> tuple[_Entry, bool]:
        """The entry for the file, and whether it may be cached (the file did not change meanwhile)."""
        try:
            pf = s.parse_file(path, rel)
        except InputError as exc:
            error = _error_suffix(exc, rel)
            if error is None:
                raise
            entry = _Entry(None, {}, error)
        else:
            entry = _Entry(pf.body, pf.suppressions)
        try:
            unchanged = path.read_bytes() == data
        except OSError:
            unchanged = False
        return entry, unchanged

    def _path(self, name: str) -> Path:
        assert self.directory is not None
        return self.directory / "trees" / name[:2] / name

    def _secret(self) -> bytes | None:
        """The cache directory's MAC key, created on first use; None when the directory cannot be used."""
        if self._key is not None or self.directory is None or self._unusable:
            return self._key
        key = self._read_or_create_key(self.directory)
        if key is None:
            self._unusable = True
            self._writable = False
        self._key = key
        return key

    def _read_or_create_key(self, directory: Path) -> bytes | None:
        key_file = directory / "key"
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not (_private(directory) and _private(directory / "trees", missing_ok=True)):
                return None  # another user could plant entries: use no entry, write none
            try:
                key = key_file.read_bytes()
            except FileNotFoundError:
                key = b""
            if len(key) == _KEY_SIZE and _private(key_file, secret=True):
                return key
            tmp = directory / f".key.{os.getpid()}.{os.urandom(4).hex()}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, os.urandom(_KEY_SIZE))
            finally:
                os.close(fd)
            if key:  # a bad key (wrong length or mode): replace it, which voids every entry
                os.replace(tmp, key_file)
            else:
                try:
                    os.link(tmp, key_file)  # atomic and exclusive: concurrent runs agree on one key
                except FileExistsError:
                    pass
                finally:
                    os.unlink(tmp)
            key = key_file.read_bytes()
        except OSError:
            return None
        return key if len(key) == _KEY_SIZE else None

    def _mac(self, key: bytes, name: str, payload: bytes) -> bytes:
        """BLAKE2b in keyed mode, a MAC by design (RFC 7693), over the entry's name and payload."""
        mac = blake2b(name.encode("ascii") + b"\0", digest_size=_MAC_SIZE, key=key, person=b"aurora-validate")
        mac.update(payload)
        return mac.digest()

    def _load(self, name: str) -> _Entry | None:
        if self.directory is None:
            return None
        try:
            blob = self._path(name).read_bytes()
        except OSError:
            return None
        key = self._secret()
        head = len(MAGIC) + _MAC_SIZE
        if key is None or len(blob) <= head or not blob.startswith(MAGIC):
            self.rejected += 1
            return None
        mac, payload = blob[len(MAGIC) : head], blob[head:]
        if not compare_digest(mac, self._mac(key, name, payload)):
            self.rejected += 1
            return None
        try:
            entry = pickle.loads(payload)
        except Exception:  # written by us, so only a bug gets here; parse instead
            self.rejected += 1
            return None
        if not isinstance(entry, _Entry):
            self.rejected += 1
            return None
        return entry

    def _store(self, name: str, entry: _Entry) -> None:
        if not self._writable:
            return
        key = self._secret()
        if key is None:
            return
        try:
            payload = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, RecursionError, TypeError):
            return
        target = self._path(name)
        tmp = target.parent / f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
        try:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with open(tmp, "wb") as fh:
                fh.write(MAGIC + self._mac(key, name, payload) + payload)
            os.replace(tmp, target)
        except OSError:
            self._writable = False  # read-only or full: stop trying for this run
            with contextlib.suppress(OSError):
                tmp.unlink()


def _private(path: Path, missing_ok: bool = False, secret: bool = False) -> bool:
    """Owned by this user and writable by no one else (readable by no one else, for the key)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return missing_ok
    getuid = getattr(os, "getuid", None)
    if getuid is not None and st.st_uid != getuid():
        return False
    return not st.st_mode & (0o077 if secret else 0o022)


def _error_suffix(exc: InputError, rel: str) -> tuple[str, str, str] | None:
    """The error with the file's path cut off its "where", or None when it names something else."""
    if exc.where == rel or exc.where.startswith(rel + ":"):
        return exc.where[len(rel) :], exc.message, exc.kind
    return None


def _materialise(entry: _Entry, path: Path, rel: str) -> s.ParsedFile:
    """A ParsedFile for ``rel``, sharing the tree (nothing changes a parsed tree) unless it names another file."""
    if entry.error is not None:
        suffix, message, kind = entry.error
        raise InputError(rel + suffix, message, kind)
    assert entry.body is not None
    body = entry.body
    if body.blocks and body.blocks[0].file != rel:  # the same bytes under another path: blocks name their file
        body = _stamp(body, rel)
    suppressions = {line: list(items) for line, items in entry.suppressions.items()}
    return s.ParsedFile(path, rel, body, suppressions)


def _stamp(body: s.Body, rel: str) -> s.Body:
    return s.Body(
        dict(body.attributes),
        [s.Block(b.type, b.labels, _stamp(b.body, rel), b.line, b.end_line, rel) for b in body.blocks],
    )


def _salt() -> bytes:
    """What a cached tree depends on besides the file's bytes."""
    h = blake2b(digest_size=32)
    h.update(MAGIC)
    h.update(f"{__version__}\0{sys.version_info[0]}.{sys.version_info[1]}\0".encode())
    h.update(_file_digest(Path(s.__file__)))
    h.update(_file_digest(Path(__file__)))
    for part in _parser_files():
        h.update(part)
    return h.digest()


def _file_digest(path: Path) -> bytes:
    try:
        return blake2b(path.read_bytes(), digest_size=16).digest()
    except OSError:
        return b"?"


def _parser_files() -> list[bytes]:
    """python-hcl2's grammar, parser and version, and lark's version, read without importing them."""
    import importlib.util

    out: list[bytes] = []
    wanted = (("hcl2", ("hcl2.lark", "parser.py", "version.py", "__init__.py")), ("lark", ("__init__.py",)))
    for package, files in wanted:
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.origin:
            out.append(f"{package}: missing".encode())
            continue
        base = Path(spec.origin).parent
        out.append(str(base).encode())
        out.extend(_file_digest(base / f) for f in files)
    return out


def open_cache(enabled: bool = True, directory: Path | None = None) -> ParseCache:
    """The cache a run uses: on disk unless disabled (by the caller or ``AURORA_VALIDATE_NO_CACHE``)."""
    if not enabled or disabled_by_env():
        return ParseCache(None)
    return ParseCache(directory or default_directory())

