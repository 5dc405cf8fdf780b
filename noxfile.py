"""Development sessions: ``nox -s tests``, ``lint``, ``typecheck``, ``docs``, ``bench``, ``demo``,
``documents``, ``fuzz``, ``screenshots``.

Every dependency comes from ``pyproject.toml`` (the project's dependency groups and extras).
On a fresh machine ``python3 tools/dev.py SESSION`` makes ``.venv``, installs nox there and
runs the session: nothing needs to be installed first.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests", "docs"]
# virtualenv (a dependency of nox) brings its own pip: a Python without ensurepip (Debian
# without python3-venv) can still make the sessions' environments.
nox.options.default_venv_backend = "virtualenv"
nox.options.reuse_existing_virtualenvs = True

PYPROJECT = nox.project.load_toml("pyproject.toml")


def _install(session: nox.Session, *groups: str, extras: str = "") -> None:
    deps: list[str] = []
    for group in groups:
        deps.extend(nox.project.dependency_groups(PYPROJECT, group))
    session.install("--upgrade", "pip")
    session.install("-e", f".[{extras}]" if extras else ".", *deps)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (including the executable examples in docs/)."""
    _install(session, "tests", extras="postgres,mysql,notebook,excel,metrics")
    # One worker per core: the suite talks to real servers and waits on them as often as it
    # computes. Each PostgreSQL test has its own schema, each file store its own folder.
    session.run("pytest", "--numprocesses=auto", "--dist=loadgroup", *session.posargs)


@nox.session
def fuzz(session: nox.Session) -> None:
    """The HTTP service under schemathesis, stateless and stateful, as every role (bounded:
    KMBASE_FUZZ_EXAMPLES per operation and role, default 20; not a default session)."""
    _install(session, "fuzz", extras="service")
    session.run(
        "pytest",
        "tests/test_service_schemathesis.py",
        "-p",
        "no:randomly",
        "-s",  # the run's figures
        *session.posargs,
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting check."""
    _install(session, "lint")
    session.run("ruff", "check", "src", "tests", "benchmarks", "tools", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks", "tools", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the library and its typed usage file."""
    _install(session, "typecheck", extras="postgres,mysql,service,metrics,rabbitmq,nats,redis")
    session.run("mypy", "src", "tests/typing_usage.py", "tools/dev.py")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site with warnings as errors."""
    _install(session, "docs")
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")


@nox.session
def bench(session: nox.Session) -> None:
    """Print performance figures and ratios (never asserted in tests)."""
    _install(session, "tests", extras="postgres")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: the bundled demonstration on the embedded default."""
    _install(session, extras="excel")
    session.run("kmbase", "demo", *session.posargs)


@nox.session
def documents(session: nox.Session) -> None:
    """Render the first page of a sample 公示 to docs/images/notice.png (needs LibreOffice and
    poppler-utils: apt-get install libreoffice-writer-nogui fonts-noto-cjk poppler-utils)."""
    _install(session, extras="documents")
    session.run("python", "tools/document_images.py", *session.posargs)


@nox.session
def model(session: nox.Session) -> None:
    """The workflow's model-based test, run long (2000 examples instead of the default 100)."""
    _install(session, "tests")
    session.run(
        "pytest",
        "tests/test_workflow_model.py",
        "--hypothesis-show-statistics",
        *session.posargs,
        env={"KMBASE_MODEL_EXAMPLES": "2000"},
    )


@nox.session
def screenshots(session: nox.Session) -> None:
    """Each role's main page of the console to docs/images/console-<role>.png (needs Chromium:
    apt-get install chromium; Playwright drives it, nothing is downloaded)."""
    _install(session, "screenshots", extras="console")
    session.run("python", "tools/console_images.py", *session.posargs)
