"""Set up the machine (Debian packages, .venv, the project in it), then run the app or the tests.

Standard library only: this module runs under the system ``python3`` before any dependency
exists. ``python3 -m app`` and ``python3 -m tests`` call ``main_app`` and ``main_tests``.
Every step is idempotent, and a second run with nothing to do takes well under a second.
"""

# Running fixed commands (apt-get, venv, pip, the test tools) is this module's job.
# ruff: noqa: S603, S606, S607

from __future__ import annotations

import contextlib
import ctypes.util
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

MIN_PYTHON = (3, 11)
REPO_ROOT = Path(__file__).resolve().parent.parent
VENV_DIR = REPO_ROOT / ".venv"
VENV_PYTHON = VENV_DIR / "bin" / "python"
STAMP_FILE = VENV_DIR / ".buchumen-installed"
PYPROJECT = REPO_ROOT / "pyproject.toml"

DEFAULT_APP_ARGS = ("serve", "--demo")
TEST_EXTRAS = ("test",)
# Checked by mypy; tests/ is checked by ruff and exercised by pytest.
TYPED_PACKAGES = ("app", "bot", "payments", "logistics", "ocr", "storage")


class BootstrapError(Exception):
    """A setup step failed; ``step`` names it for the message."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step
        self.message = message


@dataclass(frozen=True)
class SystemRequirement:
    """Something the service needs from the OS, how to tell it is there, and its Debian packages."""

    description: str
    apt_packages: tuple[str, ...]
    is_present: Callable[[], bool]


def _opencv_libraries_present() -> bool:
    # RapidOCR's OpenCV wheel links against the system's libGL and GLib.
    return all(ctypes.util.find_library(name) for name in ("GL", "glib-2.0"))


def _tesseract_reads_chinese() -> bool:
    if shutil.which("tesseract") is None:
        return False
    try:
        result = subprocess.run(
            ["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    # Older builds print the language list on stderr.
    return "chi_sim" in (result.stdout + result.stderr).split()


# The one list of what the OS must provide. To need another Debian package (chromium for the
# browser tests, say), add an entry here; the next run of either README command installs it.
SYSTEM_REQUIREMENTS: tuple[SystemRequirement, ...] = (
    SystemRequirement(
        description="tesseract OCR with Simplified Chinese (chi_sim)",
        apt_packages=("tesseract-ocr", "tesseract-ocr-chi-sim"),
        is_present=_tesseract_reads_chinese,
    ),
    SystemRequirement(
        description="libGL and GLib (the OpenCV inside RapidOCR links against them)",
        apt_packages=("libgl1", "libglib2.0-0"),
        is_present=_opencv_libraries_present,
    ),
    SystemRequirement(
        description="Chromium (the browser tests drive Debian's build; nothing is downloaded)",
        apt_packages=("chromium",),
        is_present=lambda: shutil.which("chromium") is not None,
    ),
    SystemRequirement(
        description="Noto CJK fonts (the synthetic OCR corpus draws Chinese text with them)",
        apt_packages=("fonts-noto-cjk",),
        is_present=Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc").is_file,
    ),
    SystemRequirement(
        description="WenQuanYi and AR PL fonts (the OCR corpus draws documents in several faces)",
        apt_packages=(
            "fonts-wqy-zenhei",
            "fonts-wqy-microhei",
            "fonts-arphic-uming",
            "fonts-arphic-ukai",
        ),
        is_present=lambda: all(
            Path(path).is_file()
            for path in (
                "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
                "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
                "/usr/share/fonts/truetype/arphic/uming.ttc",
                "/usr/share/fonts/truetype/arphic/ukai.ttc",
            )
        ),
    ),
)


def say(message: str) -> None:
    """Print a progress line on stderr, so stdout stays the CLI's own output."""
    print(f"==> {message}", file=sys.stderr, flush=True)


def _run(
    step: str,
    command: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    try:
        result = subprocess.run(list(command), cwd=cwd, env=env, check=False)
    except OSError as exc:
        raise BootstrapError(step, f"cannot run {_quote(command)}: {exc}") from exc
    if result.returncode != 0:
        raise BootstrapError(step, f"{_quote(command)} exited with status {result.returncode}")


def _quote(command: Sequence[str | os.PathLike[str]]) -> str:
    return shlex.join(str(part) for part in command)


# -- step 1: Debian packages ---------------------------------------------------------------


def ensure_system_packages(requirements: Sequence[SystemRequirement] = SYSTEM_REQUIREMENTS) -> None:
    """Install the Debian packages of every requirement that is not present, or explain how."""
    missing = [req for req in requirements if not req.is_present()]
    if not missing:
        return
    packages = list(dict.fromkeys(pkg for req in missing for pkg in req.apt_packages))
    what = "; ".join(req.description for req in missing)
    step = "Debian packages"
    install = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    manual = f"apt-get update && {_quote(install)}"

    if shutil.which("apt-get") is None:
        raise BootstrapError(
            step, f"missing {what}, and this is not a Debian system: install {' '.join(packages)}"
        )
    if os.geteuid() == 0:
        prefix: list[str] = []
    elif shutil.which("sudo") is not None:
        prefix = ["sudo", "env", "DEBIAN_FRONTEND=noninteractive"]
        manual = f"sudo apt-get update && sudo {_quote(install)}"
    else:
        raise BootstrapError(step, f"missing {what}; as root, run:\n    {manual}")

    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    say(f"installing Debian packages for {what}: {' '.join(packages)}")
    say(f"running: {_quote([*prefix, 'apt-get', 'update'])}")
    try:
        _run(step, [*prefix, "apt-get", "update"], env=env)
        say(f"running: {_quote([*prefix, *install])}")
        _run(step, [*prefix, *install], env=env)
    except BootstrapError as exc:
        raise BootstrapError(step, f"{exc.message}\n    to do it by hand: {manual}") from exc

    still_missing = [req.description for req in missing if not req.is_present()]
    if still_missing:
        raise BootstrapError(
            step, f"installed {' '.join(packages)} but still missing: {'; '.join(still_missing)}"
        )


# -- step 2: the virtualenv ----------------------------------------------------------------


def _venv_python_version() -> tuple[int, int] | None:
    """Return the venv interpreter's (major, minor), or None when it is absent or broken."""
    if not VENV_PYTHON.exists():
        return None
    try:
        result = subprocess.run(
            [str(VENV_PYTHON), "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    major, minor = result.stdout.split()
    return int(major), int(minor)


def ensure_virtualenv() -> None:
    """Create ``.venv`` with this interpreter, or recreate it if its python is broken or too old."""
    version = _venv_python_version()
    if version is not None and version >= MIN_PYTHON:
        return
    step = "virtualenv"
    if version is None and (VENV_DIR / "pyvenv.cfg").exists():
        say(f"{VENV_DIR.name} is broken (its python does not run); recreating it")
    elif version is not None:
        say(f"{VENV_DIR.name} has Python {version[0]}.{version[1]}; recreating it")
    else:
        say(f"creating virtualenv {VENV_DIR.name} with {sys.executable}")
    command = [sys.executable, "-m", "venv", "--clear", str(VENV_DIR)]
    try:
        _run(step, command)
    except BootstrapError as exc:
        hint = ""
        if not _has_module("ensurepip"):
            hint = "\n    this python has no ensurepip: on Debian, apt-get install python3-venv"
        raise BootstrapError(step, exc.message + hint) from exc


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


# -- step 3: the project installed into the virtualenv -------------------------------------


def _read_stamp() -> tuple[str, frozenset[str]] | None:
    try:
        data = json.loads(STAMP_FILE.read_text(encoding="utf-8"))
        return str(data["pyproject_sha256"]), frozenset(data["extras"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def ensure_project_installed(extras: Sequence[str]) -> None:
    """``pip install -e .[extras]`` unless pyproject.toml is unchanged since the last install."""
    step = "pip install"
    try:
        digest = hashlib.sha256(PYPROJECT.read_bytes()).hexdigest()
    except OSError as exc:
        raise BootstrapError(step, f"cannot read {PYPROJECT}: {exc}") from exc
    wanted = frozenset(extras)
    stamp = _read_stamp()
    if stamp is not None and stamp[0] == digest and wanted <= stamp[1]:
        return
    # Keep the extras an earlier run installed, so `app` and `tests` don't undo each other.
    if stamp is not None:
        wanted |= stamp[1]
    target = f".[{','.join(sorted(wanted))}]" if wanted else "."
    reason = "first install" if stamp is None else "pyproject.toml or extras changed"
    say(f"installing the project into {VENV_DIR.name} ({reason}): pip install -e '{target}'")
    STAMP_FILE.unlink(missing_ok=True)
    _run(
        step,
        [
            VENV_PYTHON,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-e",
            target,
        ],
        cwd=REPO_ROOT,
    )
    stamp_data = {"pyproject_sha256": digest, "extras": sorted(wanted)}
    STAMP_FILE.write_text(json.dumps(stamp_data) + "\n", encoding="utf-8")


# -- all steps -----------------------------------------------------------------------------


@contextlib.contextmanager
def _bootstrap_lock() -> Iterator[None]:
    """Serialize concurrent bootstraps of the same tree (say, `app` and `tests` started at once)."""
    # The lock is on the .venv directory itself: `venv --clear` empties it but never removes it.
    VENV_DIR.mkdir(exist_ok=True)
    fd = os.open(VENV_DIR, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def ensure_environment(extras: Sequence[str]) -> None:
    """Make sure the Debian packages, ``.venv`` and the project with ``extras`` are installed."""
    _check_python()
    with _bootstrap_lock():
        ensure_system_packages()
        ensure_virtualenv()
        ensure_project_installed(extras)


def _check_python() -> None:
    if sys.version_info < MIN_PYTHON:
        wanted = ".".join(map(str, MIN_PYTHON))
        raise BootstrapError("python", f"needs Python {wanted} or newer, this is {sys.version}")


def venv_environ() -> dict[str, str]:
    """The environment of a process that runs inside ``.venv``, as if it were activated."""
    env = dict(os.environ)
    env.pop("PYTHONHOME", None)
    env["VIRTUAL_ENV"] = str(VENV_DIR)
    env["PATH"] = os.pathsep.join([str(VENV_PYTHON.parent), env.get("PATH", "")])
    return env


def _bootstrap_or_exit(extras: Sequence[str]) -> None:
    try:
        ensure_environment(extras)
    except BootstrapError as exc:
        print(f"bootstrap failed at step '{exc.step}': {exc.message}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


def main_app(argv: Sequence[str]) -> NoReturn:
    """Entry of ``python3 -m app``: set up, then become ``python -m app.cli`` inside .venv."""
    _bootstrap_or_exit(())
    args = list(argv) or list(DEFAULT_APP_ARGS)
    python = str(VENV_PYTHON)
    os.execve(python, [python, "-m", "app.cli", *args], venv_environ())


# -- the test suite ------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    name: str
    args: tuple[str, ...]


def suite_steps(pytest_args: Sequence[str]) -> list[Step]:
    """The test command's steps in order; pytest is last and receives the extra arguments."""
    # `ruff format --check .` joins the list once the whole tree is formatted.
    return [
        Step("ruff check", ("-m", "ruff", "check", ".")),
        Step("mypy", ("-m", "mypy", *TYPED_PACKAGES)),
        Step("pytest", ("-m", "pytest", "-n", "2", *pytest_args)),
    ]


# pytest's last line, e.g. "==== 12 passed, 1 skipped in 3.21s ====", once colours are removed.
_PYTEST_CLOSING = re.compile(r"^=+ .* in [\d.]+s(?: \([^)]*\))? =+$")
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def _run_streaming(command: list[str], env: dict[str, str]) -> tuple[int, str | None]:
    """Run ``command``, copying its output through; return its status and pytest's closing line."""
    tail = b""
    with subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as proc:
        assert proc.stdout is not None
        out = sys.stdout.buffer
        while chunk := os.read(proc.stdout.fileno(), 65536):
            out.write(chunk)
            out.flush()
            tail = (tail + chunk)[-8192:]
    for raw_line in reversed(tail.splitlines()):
        line = _ANSI_ESCAPE.sub("", raw_line.decode("utf-8", "replace")).strip()
        if _PYTEST_CLOSING.match(line):
            return proc.returncode, line
    return proc.returncode, None


def run_suite(pytest_args: Sequence[str]) -> int:
    """Run every step inside .venv, print which passed, and return 0 only if all did."""
    env = {**venv_environ(), "PYTHONUNBUFFERED": "1"}
    pytest_args = list(pytest_args)
    if sys.stdout.isatty() and not any(arg.startswith("--color") for arg in pytest_args):
        pytest_args.append("--color=yes")  # its output goes through a pipe, so ask for colour
    results: list[tuple[str, str]] = []
    closing: str | None = None
    for step in suite_steps(pytest_args):
        print(f"==> {step.name}", flush=True)
        started = time.monotonic()
        command = [str(VENV_PYTHON), *step.args]
        if step.name == "pytest":
            status, closing = _run_streaming(command, env)
        else:
            status = subprocess.run(command, cwd=REPO_ROOT, env=env, check=False).returncode
        elapsed = time.monotonic() - started
        if status == 0:
            outcome = "ok"
        elif step.name == "pytest" and status == 5:
            outcome = "FAILED (no tests were collected)"
        else:
            outcome = f"FAILED (exit {status})"
        results.append((step.name, outcome))
        print(f"==> {step.name}: {outcome} in {elapsed:.1f}s", flush=True)

    failed = [name for name, outcome in results if outcome != "ok"]
    summary = ", ".join(f"{name} {outcome.split(' (')[0]}" for name, outcome in results)
    verdict = "all steps ok" if not failed else f"{len(failed)} of {len(results)} steps failed"
    print(f"==> summary: {summary} -- {verdict}", flush=True)
    if closing is not None:
        # Readers of CI logs (people and tools) look for pytest's tally on the last line.
        print(closing, flush=True)
    return 1 if failed else 0


def main_tests(argv: Sequence[str]) -> NoReturn:
    """Entry of ``python3 -m tests``: set up, then ruff, mypy and pytest (extra args to pytest)."""
    _bootstrap_or_exit(TEST_EXTRAS)
    try:
        code = run_suite(argv)
    except KeyboardInterrupt:
        code = 130
    raise SystemExit(code)
