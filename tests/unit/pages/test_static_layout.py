"""recon/static/ by role: a template loads only the entry scripts in pages/, pages import only
from lib/, lib/ never imports a page; and the package ships every file of static/ and
templates/ (setup.cfg's package_data globs do not descend into folders by themselves)."""

from __future__ import annotations

import configparser
import posixpath
import re
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "recon"
STATIC = PACKAGE / "static"
SCRIPT_TAG = re.compile(r"""<script\b[^>]*\bsrc="\{\{ url_for\('static', filename='([^']+)'\)""")
IMPORT = re.compile(r'^import\b[^;]*?"([^"]+)";', re.M)


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(STATIC).as_posix() for p in folder.rglob("*") if p.is_file()}


def imports_of(name: str) -> set[str]:
    """What the module at static/<name> imports, resolved as the browser resolves it."""
    source = (STATIC / name).read_text()
    specs = IMPORT.findall(source)
    assert len(specs) == len(re.findall(r"^import\b", source, re.M)), name
    found = set()
    for spec in specs:
        assert spec.startswith(("./", "../")), f"{name}: {spec} is not a relative import"
        found.add(posixpath.normpath(posixpath.join(posixpath.dirname(name), spec)))
    return found


def test_templates_load_exactly_the_scripts_in_pages():
    loaded = {name for t in (PACKAGE / "templates").rglob("*.html")
              for name in SCRIPT_TAG.findall(t.read_text())}
    vendored = {name for name in loaded if name.startswith("vendor/")}
    assert vendored <= files_under(STATIC / "vendor")  # a third party's script, kept whole
    assert loaded - vendored == files_under(STATIC / "pages")
    assert len(loaded) >= 5


def test_pages_import_from_lib_and_lib_never_imports_a_page():
    pages, lib = files_under(STATIC / "pages"), files_under(STATIC / "lib")
    reached: set[str] = set()
    todo = sorted(pages)
    while todo:
        name = todo.pop()
        for target in imports_of(name):
            assert target in lib, f"{name} imports {target}: not a module in lib/"
            if target not in reached:
                reached.add(target)
                todo.append(target)
    assert reached == lib  # every module in lib/ is some page's, directly or not


def test_package_data_covers_every_static_and_template_file():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    globs = [PurePosixPath(g.strip()) for g in cfg["options.package_data"]["recon"].split(",")]

    def shipped(rel: PurePosixPath) -> bool:
        return any(len(g.parts) == len(rel.parts)
                   and all(fnmatchcase(p, q) for p, q in zip(rel.parts, g.parts, strict=True))
                   for g in globs)

    files = [PurePosixPath(p.relative_to(PACKAGE).as_posix())
             for folder in ("static", "templates") for p in (PACKAGE / folder).rglob("*")
             if p.is_file()]
    assert len(files) > 20
    assert [str(f) for f in files if not shipped(f)] == []
